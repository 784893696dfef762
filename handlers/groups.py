"""Handler groups, in the order python-telegram-bot runs them (lowest number first).

Within one group only the first handler that matches an update runs; every group gets its
turn unless a handler raises ApplicationHandlerStop. So each interceptor that must see an
update before the conversations has a group of its own, named here, with the reason.
"""

# Every button press: a buyer's button outside the presser's private chat goes no further.
AUDIENCE = -110
# Every update: a user who had blocked the bot wrote again. Never consumes the update.
CONTACT = -100
# /start and /help from a manager: their own commands instead of the buyer's welcome.
MANAGER_DESK = -30
# /start <payload>: record the deep-link source, then let /start itself go on.
LEAD_SOURCE = -20
# /mydata and /forget: answered in the middle of any conversation, without moving it.
PRIVACY = -10
# A policy file sent by an admin after /whatif.
WHATIF_DOCUMENT = -9
# A manager typing why a disbursement-checklist step is waived.
CHECKLIST_WAIVE_REASON = -6
# Text a buyer sends after "Talk to a manager" is relayed to the lead's owner.
RELAY_BUYER = -4
# A manager's reply to a relayed message goes back to the buyer.
RELAY_MANAGER = -3
# A manager typing the reason a lead was lost.
LOST_REASON = -2
# A reply to /calc's question, before the pre-qualification conversation sees it.
CALC_REPLY = -1
# Commands, buttons and the conversations.
DEFAULT = 0
# (After every update its conversation state is written: AutoloanApplication.process_update.)
