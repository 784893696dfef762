"""One way to write each kind of figure in a message: money in Chinese, the subsidy's dates,
a method's name, a balloon's final payment, counts, and the chart's month labels.
Expected strings are written out by hand."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from bot.sandbox.world import SandboxWorld
from handlers.prequalify.result import dated
from handlers.prequalify.states import choice_name_key
from lending.policy import Subsidy
from lending.reasons import REASON_TEXTS, reason_text
from lending.schedule import RepaymentMethod, build_schedule
from lending.subsidy import estimate_subsidy
from services import charts
from services.charts import month_labels
from services.loans.book import LoanTerms
from services.rendering import TEMPLATE_DIR, Renderer
from tests.loans.helpers import book, borrower
from tests.prequalify.journey import act, begin

RENDERER = Renderer()


def test_chinese_reasons_write_money_as_the_messages_do() -> None:
    """The decline's reason beside the button "月供¥5,866.77": ¥ and the figure, no 元."""
    assert (
        reason_text("pti_above_cap", "zh", payment="6,129.46", ratio="45.2", cap="40")
        == "月供¥6,129.46，占收入的45.2%，上限为40%。"
    )
    for code, texts in REASON_TEXTS.items():
        assert not re.search(r"\}元", texts["zh"]), code


def test_no_chinese_template_puts_yuan_after_a_money_figure() -> None:
    for path in sorted((TEMPLATE_DIR / "zh").glob("*.j2")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\|\s*(money|amount)\s*\}\}\s*元", text), path.name


@pytest.mark.parametrize(
    ("locale", "value", "shown"),
    [
        ("zh", "200000", "20万元"),  # a price, a down payment, a loan
        ("zh", "15050", "¥15,050"),  # not whole hundreds: as money
        ("zh", "880.04", "¥880.04"),
        ("en", "200000", "¥200,000"),
    ],
)
def test_amount_is_wan_only_for_principal_sized_whole_figures(locale, value, shown) -> None:
    env = RENDERER.envs[locale]
    assert env.filters["amount"](Decimal(value)) == shown


def test_the_subsidy_line_gives_both_dates_in_the_day_style() -> None:
    """Paid out 3 March 2026 with the 2026 programme: the months run 3rd to 2nd, so the
    last whole one inside the year is 3 November to 2 December; the one opening 3 December
    runs into January and is left out."""
    programme = Subsidy.model_validate(
        {
            "lender_participates": True,
            "periods": [{"start": date(2026, 1, 1), "end": date(2026, 12, 31)}],
        }
    )
    balances = [Decimal(120000 - 1000 * k) for k in range(61)]
    estimate = estimate_subsidy(balances, Decimal("3.8"), date(2026, 3, 3), programme)
    assert estimate is not None
    assert (estimate.months, estimate.until, estimate.ends) == (
        9,
        date(2026, 12, 2),
        date(2026, 12, 31),
    )
    params = {"saving": "880.04", "until": "2026-12-02", "ends": "2026-12-31"}
    assert reason_text("subsidy_estimate", "en", **dated(RENDERER, "en", params)) == (
        "The car-loan interest subsidy could pay about ¥880.04 of your interest: what accrues "
        "until Dec 2, 2026, the end of your last whole month of payments inside the programme "
        "(it runs until Dec 31, 2026)."
    )
    assert reason_text("subsidy_estimate", "zh", **dated(RENDERER, "zh", params)) == (
        "汽车消费贷款财政贴息预计可为您承担约¥880.04的利息，即截至2026年12月2日"
        "（贴息期内最后一个完整还款月的末日）产生的利息；贴息政策执行至2026年12月31日。"
    )


@pytest.mark.parametrize(("locale", "name"), [("en", "Balloon"), ("zh", "弹性尾款")])
def test_the_balloon_is_named_short_in_texts_and_long_on_its_button(locale, name) -> None:
    labels = RENDERER.labels(locale)
    assert RENDERER.label(locale, choice_name_key("balloon", labels)) == name
    assert (
        RENDERER.label(locale, choice_name_key("annuity", labels)) == labels["apply_choice_annuity"]
    )
    assert labels["apply_choice_balloon"] != name  # the button explains it


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "en",
            "Monthly payment ¥2,528.30 · final payment ¥77,528.35 on Mar 3, 2031 "
            "(the balloon of ¥75,000 plus that month's payment)",
        ),
        (
            "zh",
            "月供 ¥2,528.30 · 末期还款 ¥77,528.35，于2031年3月3日到期（含尾款¥75,000及当月月供）",
        ),
    ],
)
def test_compare_names_a_balloon_s_last_payment_once(locale, expected) -> None:
    row = {
        "method": "balloon", "name": "Balloon", "suits": "", "first_payment": Decimal("2528.30"),
        "last_payment": Decimal("2528.35"), "remaining_at_end": Decimal("75000"),
        "final_payment": Decimal("77528.35"), "final_due_date": date(2031, 3, 3),
        "total_interest": Decimal("1"),
    }  # fmt: skip
    c = {"principal": Decimal(200000), "term_months": 60, "annual_rate": Decimal("3.8")}
    text = RENDERER.render(locale, "desk_compare", c=c, rows=[row], chosen="", indicative=False)
    assert expected in text
    assert text.count("¥2,528.35") == 0  # the last installment is not a second "last"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "en",
            "Your repayment schedule: 59 payments of about ¥2,528.30, then the final payment "
            "of ¥77,528.35 on Mar 3, 2031 (the balloon of ¥75,000 plus that month's payment).",
        ),
        (
            "zh",
            "您的还款计划：共60期，前59期每期约¥2,528.30，末期还款¥77,528.35，"
            "于2031年3月3日到期（含尾款¥75,000及当月月供）。",
        ),
    ],
)
def test_the_chart_caption_includes_the_final_payment(locale, expected) -> None:
    class Last:
        payment = Decimal("77528.35")
        due_date = date(2031, 3, 3)

    text = RENDERER.render(
        locale, "apply_chart_caption", term=60, payment=Decimal("2528.30"),
        balloon=Decimal("75000"), final=Last(),
    )  # fmt: skip
    assert text.startswith(expected)


@pytest.mark.parametrize(
    ("count", "days", "expected"),
    [
        (1, 0, "1 lead."),
        (2, 0, "2 leads."),
        (1, 1, "1 lead, last 1 day."),
        (0, 7, "0 leads, last 7 days."),
    ],
)
def test_the_export_caption_counts_in_english(count, days, expected) -> None:
    assert RENDERER.render("en", "lead_export_caption", count=count, days=days) == expected


@pytest.mark.parametrize(
    ("count", "labelled"),
    [
        (12, [1, 3, 6, 9, 12]),  # not 1 2 4 6: no step of two
        (13, [1, 3, 6, 9, 13]),
        (30, [1, 6, 12, 18, 24, 30]),
        (60, [1, 12, 24, 36, 48, 60]),
    ],
)
def test_month_labels_step_evenly_from_the_start(count, labelled) -> None:
    assert month_labels(count) == labelled


@pytest.mark.parametrize(
    ("locale", "language", "expected"),
    [
        (
            "en",
            "en",
            "You have not submitted an application: the one you stopped on Mar 3, 2026, 10:00 "
            "is set aside. Send /start whenever you want to try again.",
        ),
        (
            "zh",
            "zh-hans",
            "您还没有提交申请：您在2026年3月3日 10:00停止的申请已搁置。随时发送 /start 重新开始。",
        ),
    ],
)
async def test_status_after_cancel_names_the_draft_set_aside(
    world: SandboxWorld, locale: str, language: str, expected: str
) -> None:
    buyer = world.user(1001, "Li", language)
    await begin(world, buyer, locale)
    await act(world, buyer, locale, "vehicle_condition", "new")
    buyer.command("/cancel")
    await world.settle()
    buyer.command("/status")
    await world.settle()
    assert buyer.last_text() == expected


@pytest.mark.parametrize(
    ("language", "pattern"),
    [
        (
            "en",
            r"Final payment: ¥([\d,.]+) on Mar 3, 2027 \(the balloon of ¥36,000 plus that "
            r"month's payment\)",
        ),
        ("zh-hans", r"末期还款：¥([\d,.]+)，于2027年3月3日到期（含尾款¥36,000及当月月供）"),
    ],
)
async def test_a_balloon_loan_says_its_final_payment_the_same_way_everywhere(
    world: SandboxWorld, language: str, pattern: str
) -> None:
    """120,000 at 4.8% over 12 months leaving 36,000: the level payment is numpy-financial's
    pmt(0.4%, 12, -120,000, 36,000) = 7,327.33 (to the fen); the 12th, due 3 March 2027,
    is that plus the balloon, give or take the cents the schedule's rounding leaves."""
    buyer = await borrower(world, 1001, "Li", language)
    await book(
        world,
        buyer.id,
        loan_terms=LoanTerms(
            principal=Decimal(120000), annual_rate=Decimal("4.8"), term_months=12,
            method=RepaymentMethod.BALLOON, first_due_date=date(2026, 4, 3),
            balloon_amount=Decimal(36000),
        ),
    )  # fmt: skip
    await world.settle()
    buyer.command("/schedule")
    await world.settle()
    buyer.command("/loan")
    await world.settle()
    texts = [m.text for m in buyer.bot_messages() if m.text] + [
        m.data.get("caption", "") for m in buyer.bot_messages() if m.data.get("photo")
    ]
    said = [re.search(pattern, text) for text in texts]
    amounts = {Decimal(m.group(1).replace(",", "")) for m in said if m}
    assert len([m for m in said if m]) >= 4  # the welcome, its chart, /schedule, /loan
    (final,) = amounts
    assert abs(final - Decimal("43327.33")) <= Decimal("0.05")


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", "Balloon ¥60,000 + month's payment ¥6,994.72"),
        ("zh", "尾款 ¥60,000 + 本期还款 ¥6,994.72"),
    ],
)
def test_the_chart_labels_the_final_bar_as_balloon_plus_the_month(
    monkeypatch: pytest.MonkeyPatch, locale: str, expected: str
) -> None:
    """140,000 at 3.8% over 12 months leaving 60,000 (the demo's chart): the 12th bar is
    66,994.72, drawn broken; its label names the balloon, not the total, as 尾款."""
    drawn: list[str] = []
    real = charts._label
    monkeypatch.setattr(
        charts, "_label", lambda text, colour: drawn.append(text) or real(text, colour)
    )
    plan = build_schedule(
        Decimal(140000), Decimal("3.8"), 12, date(2026, 3, 3), "balloon", Decimal(60000)
    )
    assert plan.installments[-1].payment == Decimal("66994.72")
    charts.schedule_chart(plan.installments, plan.principal, locale, plan.balloon_amount)
    assert expected in drawn
