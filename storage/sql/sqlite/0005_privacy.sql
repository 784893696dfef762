-- Privacy (issue 8): what is left of a person's data after /forget or the retention purge
-- is a count per day and kind, with no way back to the person.
CREATE TABLE anonymous_counts (
    day    TEXT NOT NULL,                             -- local date of the deletion
    kind   TEXT NOT NULL,                             -- 'forget', 'purged:declined', ...
    count  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, kind)
);
