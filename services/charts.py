"""A picture of a repayment schedule: what is still owed, and what each payment is made of.

Bars per installment split into principal (below) and interest (above), on the left scale;
a line shows the balance left after each payment, on the right scale. Both scales step in
round amounts (1, 2 or 5 times a power of ten), each axis has a title, and the last month
is always labelled. A balloon's final payment dwarfs the others: its bar is drawn broken
at the top of the scale with its amount written beside it, so the regular payments stay
readable. Drawn with Pillow so it needs no GUI stack, in a few milliseconds; the PNG is
small and works as a Telegram photo. Used for the pre-qualification result and for
borrowers' `/schedule`; `draw_text_sprite` and `chart_font` serve the managers' funnel.

Every word on a chart is in the reader's language, in a font shipped with the code
(services/fonts: a subset of Noto Sans CJK holding exactly the characters of `WORDS`,
digits and ASCII), so a Chinese chart has Chinese labels on any machine.
"""

from __future__ import annotations

import io
import math
import string
from collections.abc import Sequence
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

import services.fonts as fonts_package
from lending.schedule import Installment

WIDTH, HEIGHT = 960, 540
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 90, 90, 84, 66
PLOT_W = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
PLOT_H = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
BOTTOM = MARGIN_TOP + PLOT_H  # the x axis
BACKGROUND = (255, 255, 255)
AXIS = (90, 90, 90)
GRID = (228, 228, 228)
PRINCIPAL = (52, 120, 200)
INTEREST = (240, 150, 50)
BALANCE = (200, 40, 60)
MOST_TICKS = 5  # steps on a scale, at most

FONT_PATH = Path(fonts_package.__file__).parent / "chart-sans.otf"
# Every word a chart draws. The shipped font holds these characters (and digits and
# ASCII) only: change a word, then run scripts/subset_chart_font.py.
WORDS = {
    "en": {
        "principal": "Principal",
        "interest": "Interest",
        "balance": "Balance owed",
        "payment_axis": "Monthly payment (¥)",
        "balance_axis": "Balance owed (¥)",
        "month_axis": "Month",
        "final": "Final payment {amount}",
        "balloon": "Balloon {balloon} + month's payment {payment}",
        "funnel_title": "Leads, last {days} days: {total}",
    },
    "zh": {
        "principal": "本金",
        "interest": "利息",
        "balance": "剩余本金",
        "payment_axis": "每期还款（元）",
        "balance_axis": "剩余本金（元）",
        "month_axis": "还款期数（月）",
        "final": "还款 {amount}",
        "balloon": "尾款 {balloon} + 本期还款 {payment}",
        "funnel_title": "近 {days} 天线索：{total} 条",
    },
}
# Characters drawn besides the words: amounts, ticks (1k, 5万) and month numbers.
EXTRA_CHARACTERS = string.printable.strip() + " ¥万·–—"


@lru_cache(maxsize=8)
def chart_font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_PATH), size)


def words(locale: str) -> dict[str, str]:
    return WORDS[locale if locale in WORDS else "en"]


def yuan(amount: Decimal) -> str:
    """¥45,000 (cents only when there are some), as the messages write amounts."""
    whole = amount == amount.to_integral_value()
    return f"¥{amount:,.0f}" if whole else f"¥{amount:,.2f}"


def nice_step(maximum: Decimal | float, most: int = MOST_TICKS) -> int:
    """The smallest step of 1, 2 or 5 times a power of ten that covers `maximum` in at
    most `most` steps: 4,100 -> 1,000 (0 to 5,000); 140,000 -> 50,000 (0 to 150,000)."""
    top = max(float(maximum), 1.0)
    exponent = max(0, math.floor(math.log10(top / most)))
    while True:
        for multiple in (1, 2, 5):
            step = multiple * 10**exponent
            if math.ceil(top / step) <= most:
                return step
        exponent += 1


def tick_label(value: int, locale: str) -> str:
    """A scale's tick: 2.5k, 150k, 1.2M in English; 5,000, 15万 in Chinese."""
    if value == 0:
        return "0"
    if locale == "zh":
        return f"{value / 10_000:g}万" if value >= 10_000 else f"{value:,}"
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    return f"{value / 1_000:g}k" if value >= 1_000 else str(value)


def month_labels(count: int) -> list[int]:
    """Months to label along the axis: month 1, then every 3rd, 6th, 12th or 24th (at most
    about eight labels), and always the last month. No step of 2: "1 2 4 6" reads as an
    uneven scale, where "1 3 6 9" or "1 6 12" reads as counting from the start."""
    every = next((e for e in (1, 3, 6, 12, 24) if count / e <= 8), 24)
    months = [1, *range(every, count + 1, every)] if every > 1 else list(range(1, count + 1))
    months = sorted(set(months))
    if months[-1] != count:
        if count - months[-1] < every / 2:
            months.pop()  # too close to the last month to stand beside it
        months.append(count)
    return months


def schedule_chart(
    installments: Sequence[Installment],
    principal: Decimal,
    locale: str = "en",
    balloon: Decimal = Decimal(0),
) -> bytes:
    """PNG bytes: principal/interest bars per installment and the balance line; a
    `balloon` is named in the final payment's label, as the messages name it."""
    if not installments:
        raise ValueError("a schedule chart needs at least one installment")
    locale = locale if locale in WORDS else "en"
    # Drawn straight onto the palette image the PNG is saved from: the grid, axes, titles
    # and legend are the same on every chart, and the labels repeat, so both are drawn
    # once and pasted. Bars and the balance line have no anti-aliased edges, so palette
    # indices draw them exactly.
    image = _background(locale).copy()
    draw = ImageDraw.Draw(image)

    # A balloon's last payment would flatten every other bar: the scale is set by the
    # regular payments, and a payment above it is drawn broken, its amount written.
    payments = [i.payment for i in installments]
    regular = payments[:-1] if len(payments) > 1 else payments
    pay_step = nice_step(max(regular))
    pay_top = pay_step * math.ceil(max(float(max(regular)), 1.0) / pay_step)
    balance_step = nice_step(principal)
    balance_top = balance_step * math.ceil(max(float(principal), 1.0) / balance_step)

    for value in range(0, pay_top + 1, pay_step):
        y = round(BOTTOM - PLOT_H * value / pay_top)
        if value:
            draw.line([(MARGIN_LEFT + 1, y), (MARGIN_LEFT + PLOT_W - 1, y)], fill=_ink(GRID))
        sprite = _label(tick_label(value, locale), PRINCIPAL)
        image.paste(sprite, (MARGIN_LEFT - 8 - sprite.width, y - sprite.height // 2))
    for value in range(0, balance_top + 1, balance_step):
        y = round(BOTTOM - PLOT_H * value / balance_top)
        x = MARGIN_LEFT + PLOT_W
        draw.line([(x, y), (x + 5, y)], fill=_ink(BALANCE), width=2)
        sprite = _label(tick_label(value, locale), BALANCE)
        image.paste(sprite, (x + 10, y - sprite.height // 2))

    count = len(installments)
    slot = PLOT_W / count
    bar = max(1.0, slot * 0.7)
    scale = PLOT_H / pay_top
    principal_ink, interest_ink = _ink(PRINCIPAL), _ink(INTEREST)
    points = [(MARGIN_LEFT, round(BOTTOM - PLOT_H * float(principal) / balance_top))]
    broken: tuple[float, Installment] | None = None
    for index, item in enumerate(installments):
        x0 = MARGIN_LEFT + index * slot + (slot - bar) / 2
        if float(item.payment) > pay_top:
            broken = (x0, item)
        p_h = min(float(item.principal) * scale, PLOT_H)
        i_h = min(float(item.interest) * scale, PLOT_H - p_h)
        if p_h > 0:
            draw.rectangle([x0, BOTTOM - p_h, x0 + bar, BOTTOM], fill=principal_ink)
        if i_h > 0:
            draw.rectangle([x0, BOTTOM - p_h - i_h, x0 + bar, BOTTOM - p_h], fill=interest_ink)
        x_end = MARGIN_LEFT + (index + 1) * slot
        points.append((x_end, BOTTOM - PLOT_H * float(item.balance) / balance_top))
    draw.line(points, fill=_ink(BALANCE), width=3)
    if broken is not None:
        _draw_break(image, draw, broken[0], bar, broken[1], locale, balloon)

    for month in month_labels(count):
        sprite = _label(str(month), AXIS)
        x = MARGIN_LEFT + (month - 0.5) * slot
        image.paste(sprite, (round(x - sprite.width / 2), BOTTOM + 8))

    buffer = io.BytesIO()
    # compress_level=1: ~1 ms for ~20 kB; higher levels cost several times that for a
    # few kB less.
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _draw_break(
    image: Image.Image,
    draw: ImageDraw.ImageDraw,
    x0: float,
    bar: float,
    item: Installment,
    locale: str,
    balloon: Decimal,
) -> None:
    """The cut across a bar taller than the scale, and its amount beside it: the balloon
    plus that month's payment when there is one (the messages' final payment)."""
    white = _ink(BACKGROUND)
    y = MARGIN_TOP + PLOT_H * 0.12
    for offset in (0, 7):
        draw.line([(x0 - 2, y + offset + 4), (x0 + bar + 2, y + offset - 4)], fill=white, width=3)
    if 0 < balloon < item.payment:
        text = words(locale)["balloon"].format(
            balloon=yuan(balloon), payment=yuan(item.payment - balloon)
        )
    else:
        text = words(locale)["final"].format(amount=yuan(item.payment))
    sprite = _label(text, AXIS)
    image.paste(sprite, (round(x0 - 6 - sprite.width), MARGIN_TOP + 4))


@lru_cache(maxsize=2)
def _background(locale: str) -> Image.Image:
    """What every chart has: white, the axes, their titles and the legend (palette image)."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.line([(MARGIN_LEFT, MARGIN_TOP), (MARGIN_LEFT, BOTTOM)], fill=AXIS, width=2)
    draw.line([(MARGIN_LEFT, BOTTOM), (MARGIN_LEFT + PLOT_W, BOTTOM)], fill=AXIS, width=2)
    right = MARGIN_LEFT + PLOT_W
    draw.line([(right, MARGIN_TOP), (right, BOTTOM)], fill=BALANCE, width=1)
    text = words(locale)
    legend_font, title_font = chart_font(18), chart_font(15)
    x = MARGIN_LEFT
    for key, colour in zip(
        ("principal", "interest", "balance"), (PRINCIPAL, INTEREST, BALANCE), strict=True
    ):
        draw.rectangle([x, 18, x + 16, 34], fill=colour)
        draw.text((x + 22, 14), text[key], fill=AXIS, font=legend_font)
        x += 44 + int(draw.textlength(text[key], font=legend_font))
    draw.text((8, MARGIN_TOP - 30), text["payment_axis"], fill=PRINCIPAL, font=title_font)
    balance_title = text["balance_axis"]
    width = draw.textlength(balance_title, font=title_font)
    draw.text((WIDTH - 8 - width, MARGIN_TOP - 30), balance_title, fill=BALANCE, font=title_font)
    month_title = text["month_axis"]
    width = draw.textlength(month_title, font=title_font)
    draw.text(
        (MARGIN_LEFT + (PLOT_W - width) / 2, BOTTOM + 34), month_title, fill=AXIS, font=title_font
    )
    return _to_palette(image)


@lru_cache(maxsize=1024)
def _label(text: str, colour: tuple[int, int, int]) -> Image.Image:
    """A scale or month label in the small font, on white, ready to paste."""
    return _to_palette(draw_text_sprite(text, colour, 14))


def draw_text_sprite(text: str, colour: tuple[int, int, int], size: int) -> Image.Image:
    """`text` in the chart font on a white RGB tile just large enough for it."""
    font = chart_font(size)
    left, top, right, bottom = font.getbbox(text)
    sprite = Image.new("RGB", (max(1, int(right) + 1), max(1, int(bottom) + 2)), BACKGROUND)
    ImageDraw.Draw(sprite).text((0, 0), text, fill=colour, font=font)
    return sprite


def _to_palette(image: Image.Image) -> Image.Image:
    """`image` on the chart's palette: its colours and their blends with white (the
    anti-aliased text), so the PNG is 8-bit and skips Pillow's costly RGB row filters."""
    return image.quantize(palette=_palette(), dither=Image.Dither.NONE)


def _ink(colour: tuple[int, int, int]) -> int:
    """The palette index of one of the chart's own colours."""
    return _colours().index(colour)


@lru_cache(maxsize=1)
def _colours() -> tuple[tuple[int, ...], ...]:
    """The chart's colours, each in eight steps from white (text edges are anti-aliased
    against the white background)."""
    colours = [BACKGROUND]
    for colour in (AXIS, GRID, PRINCIPAL, INTEREST, BALANCE):
        for step in range(1, 9):
            colours.append(tuple(round(255 + (c - 255) * step / 8) for c in colour))
    return tuple(dict.fromkeys(colours))


@lru_cache(maxsize=1)
def _palette() -> Image.Image:
    """`_colours` as a palette image for `Image.quantize`."""
    flat = [value for colour in _colours() for value in colour]
    palette = Image.new("P", (1, 1))
    palette.putpalette(flat + [0] * (768 - len(flat)))
    return palette
