-- "renderer:argument": the row's text is made when it is sent (as sqlite/0010).
ALTER TABLE outbox ADD COLUMN render TEXT;
