-- "renderer:argument": the row's text is made when it is sent, from the database as it is
-- then (bot/outbox.py). For a lead digest that leads join until it leaves: rendering it
-- on every join cost a campaign n²/2 lead views for n leads.
ALTER TABLE outbox ADD COLUMN render TEXT;
