"""Charts worth looking at: round steps, every month that matters labelled, the balloon
drawn broken with its amount, and Chinese words in a font shipped with the code."""

from __future__ import annotations

import io
import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from PIL import Image

from lending.schedule import RepaymentMethod, build_schedule
from services import charts
from services.charts import month_labels, nice_step, schedule_chart, tick_label

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("maximum", "step"),
    [
        (4100, 1000),
        (3100, 1000),
        (5000, 1000),
        (5001, 2000),
        (140000, 50000),
        (45, 10),
        (900000, 200000),
        (1, 1),
    ],
)
def test_scales_step_in_ones_twos_and_fives(maximum: int, step: int) -> None:
    assert nice_step(maximum) == step


@pytest.mark.parametrize(
    ("value", "locale", "shown"),
    [
        (0, "en", "0"),
        (2500, "en", "2.5k"),
        (150000, "en", "150k"),
        (1000000, "en", "1M"),
        (800, "en", "800"),
        (5000, "zh", "5,000"),
        (150000, "zh", "15万"),
        (15000, "zh", "1.5万"),
    ],
)
def test_tick_labels(value: int, locale: str, shown: str) -> None:
    assert tick_label(value, locale) == shown


@pytest.mark.parametrize(
    ("count", "labelled"),
    [
        (36, [1, 6, 12, 18, 24, 30, 36]),
        (40, [1, 6, 12, 18, 24, 30, 36, 40]),
        (13, [1, 3, 6, 9, 13]),
        (37, [1, 6, 12, 18, 24, 30, 37]),
        (1, [1]),
        (6, [1, 2, 3, 4, 5, 6]),
        (84, [1, 12, 24, 36, 48, 60, 72, 84]),
    ],
)
def test_the_last_month_is_always_labelled(count: int, labelled: list[int]) -> None:
    assert month_labels(count) == labelled


def test_the_shipped_font_has_every_character_a_chart_draws() -> None:
    """Fails after a word on a chart changed until scripts/subset_chart_font.py is run."""
    cmap = TTFont(charts.FONT_PATH).getBestCmap()
    text = charts.EXTRA_CHARACTERS + "".join(
        word for words in charts.WORDS.values() for word in words.values()
    )
    for locale in ("en", "zh"):
        with open(ROOT / "templates" / locale / "labels_leads.toml", "rb") as handle:
            labels = tomllib.load(handle)
        text += "".join(v for k, v in labels.items() if k.startswith("leads_status_"))
    missing = {ch for ch in text if ch not in "{}" and ord(ch) not in cmap}
    assert not missing
    assert charts.FONT_PATH.is_relative_to(ROOT)  # shipped, not a system font
    assert (charts.FONT_PATH.parent / "OFL.txt").read_text().count("SIL OPEN FONT LICENSE") == 1


def test_a_chinese_chart_has_chinese_words() -> None:
    schedule = build_schedule(Decimal(140000), Decimal("3.8"), 36, date(2026, 3, 3))
    zh = Image.open(io.BytesIO(schedule_chart(schedule.installments, schedule.principal, "zh")))
    en = Image.open(io.BytesIO(schedule_chart(schedule.installments, schedule.principal, "en")))
    legend = (0, 0, 960, 40)
    assert zh.convert("RGB").crop(legend).tobytes() != en.convert("RGB").crop(legend).tobytes()
    # Drawn with the glyphs of 本金, not empty boxes: two different characters differ.
    glyphs = [charts.draw_text_sprite(ch, charts.AXIS, 18).tobytes() for ch in "本金\uffff"]
    assert len(set(glyphs)) == 3  # 本 and 金 each their own, neither the missing-glyph box


def test_the_balloon_bar_is_broken_at_the_top_of_the_scale() -> None:
    schedule = build_schedule(
        Decimal(140000),
        Decimal("4.8"),
        36,
        date(2026, 3, 3),
        RepaymentMethod.BALLOON,
        Decimal(45000),
    )
    image = Image.open(
        io.BytesIO(schedule_chart(schedule.installments, schedule.principal, "en"))
    ).convert("RGB")
    slot = charts.PLOT_W / 36
    x = round(charts.MARGIN_LEFT + 35.5 * slot)  # the middle of the last bar
    column = [image.getpixel((x, y)) for y in range(charts.MARGIN_TOP + 2, charts.BOTTOM)]
    blue = [c == charts.PRINCIPAL for c in column]
    first_white = blue.index(False, blue.index(True))
    assert blue[0] and not blue[first_white] and any(blue[first_white:])  # blue, cut, blue
    # The regular bars keep their height: a 4,000 scale, not the balloon's.
    regular = schedule.installments[0].payment
    assert nice_step(regular) * 5 >= regular
