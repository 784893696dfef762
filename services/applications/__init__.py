"""A prospect's pre-qualification: the draft while they answer (`submission`), how typed
answers are read (`parsing`, `spoken` numbers, `answer_words` for the buttons' choices),
the one nudge for a prospect who stopped (`nudges`), and how a new policy would have
decided the same applications (`whatif`). Submitting opens the lead through
services.leads, in the same transaction."""
