"""The people the bot knows: `users` (language, reachability), `managers` (who may work
leads, availability, round-robin) and `consent`. Imports no other capability: leads,
loans and privacy build on it."""
