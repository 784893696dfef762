"""The built-in journey `python -m bot demo --tour` plays, in the demo's own input language.

One line per step, exactly what a person would type at the demo prompt (see bot/demo.py):
text, a button's number, `/as manager NAME`, `/as buyer NAME [LANG]`, `/wait 3d`, `/contact`.
Extend it as features land: a prospect pre-qualifies, a manager claims the lead, the loan
is disbursed, a reminder arrives, the borrower reports payment.
"""

TOUR_STEPS: list[str] = [
    "# A car buyer meets the bot through a car show's QR code: t.me/<bot>?start=shanghai_auto_show",
    "/as buyer Li en",
    "/start shanghai_auto_show",  # the deep link's payload, recorded as the lead's source
    "/help",
    "# The same in Chinese",
    "/as buyer 王芳 zh-hans",
    "/help",
    "# A buyer asks for a person; a manager claims the lead and moves it to approved",
    "/as buyer Chen en",
    "/start",
    "1",  # I agree
    "3",  # Talk to a manager (offered on every question)
    "/as manager Zhang",
    "/mine",  # opens Zhang's private chat with the bot (nothing of theirs yet)
    "1",  # Claim, on the card in the managers' group
    "1",  # Contacted, on the full lead in Zhang's private chat
    "3",  # Approved
    "# Before the payout: insurance, lien registration and the transfer of funds, each ticked or waived",
    "3",  # ✅ Insurance, on the approved lead's checklist
    "4",  # ⏭ Waive lien (now the second step): asks for the reason
    "The dealer registers the lien itself",
    "3",  # ✅ Funds transferred
    "# Zhang disburses Chen's loan: the real terms, then the schedule goes to Chen",
    "1",  # Disbursed, on the approved lead: opens the terms card
    "1",  # ✏ Amount (Chen asked for a person, so there is no assessment to prefill it)
    "12万",
    "8",  # 💸 Disburse
    "/as buyer Chen en",
    "# A month on: the reminder names the manager; Chen reports paying, Zhang confirms",
    "/wait 28d",
    "1",  # ✅ I've paid, on the reminder
    "/as manager Zhang",
    "1",  # ✅ Confirm payment
    "/as buyer Chen en",
    "/loan",
    "# A prospect pre-qualifies: consent, 15 questions, the summary, the result and chart",
    "/as buyer Mei en",
    "/start",
    "1",  # I agree
    "1",  # New car
    "1",  # Petrol / diesel
    "1",  # Personal
    "20万",  # the price, as people type it
    "30%",  # the down payment, as a percent of the price
    "3",  # 36 months
    "1",  # Equal payments
    "1",  # Salaried
    "48 months",
    "¥30000",  # monthly net income
    "¥0",  # other debts
    "1",  # No late payments
    "35 years",
    "Mei Lin",
    "/contact",
    "4",  # Confirm and submit, under the summary's three groups' Edit buttons
    "# Mei compares the three repayment methods for her own numbers",
    "2",  # ⚖️ Compare methods, on the result
    "/status",
]
