"""Use cases shared by chat, scheduled jobs and the command line; no Telegram types, no SQL.

Grouped by capability: `applications` (a prospect's answers and their submission),
`leads` (the managers' queue and desk), `loans` (after disbursement), `people` (users,
managers, consent) and `privacy` (a person's data rights). The modules at this level
(runtime, clock, rendering, callbacks, keyboards, charts) are shared by all of them and
import none of them. Packages import each other one way: applications, loans and
privacy -> leads -> people. A service decides what happens and in which transaction;
the statements it runs live in storage/, in the module of the same capability.
"""
