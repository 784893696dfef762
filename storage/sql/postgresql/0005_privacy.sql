-- Privacy (as sqlite/0005): what is left after /forget or the retention purge is a count
-- per day and kind, with no way back to the person.
CREATE TABLE anonymous_counts (
    day    DATE NOT NULL,                             -- local date of the deletion
    kind   TEXT NOT NULL,                             -- 'forget', 'purged:declined', ...
    count  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, kind)
);
