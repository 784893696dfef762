"""Build services/fonts/chart-sans.otf: the characters the charts draw, cut from Noto Sans
CJK SC, so a Chinese chart has Chinese labels on any machine without shipping 20 MB.

    python scripts/subset_chart_font.py /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc

The source is Debian's fonts-noto-cjk (`apt-get download fonts-noto-cjk`, then
`dpkg-deb -x`), or any NotoSansCJK*.ttc / NotoSansSC-Regular.otf from
github.com/notofonts/noto-cjk. Run it again after changing a word in services/charts.py
(WORDS) or a lead status label (the funnel's bars); tests/prequalify/test_charts_fonts.py
fails until you do. The subset is a Modified Version under the SIL Open Font License 1.1
(services/fonts/OFL.txt): renamed, as the licence asks of modified fonts.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.charts import EXTRA_CHARACTERS, FONT_PATH, WORDS  # noqa: E402

FAMILY = "Autoloan Chart Sans"


def chart_characters() -> str:
    """Every character a chart may draw, sorted."""
    text = EXTRA_CHARACTERS + "".join(w for words in WORDS.values() for w in words.values())
    for locale in ("en", "zh"):
        with open(ROOT / "templates" / locale / "labels_leads.toml", "rb") as handle:
            labels = tomllib.load(handle)
        text += "".join(v for k, v in labels.items() if k.startswith("leads_status_"))
    return "".join(sorted(set(text) - set("{}")))


def source_font(path: Path) -> TTFont:
    """The Simplified Chinese face of a Noto Sans CJK collection, or the font itself."""
    if path.suffix.lower() == ".ttc":
        for font in TTCollection(str(path)).fonts:
            if font["name"].getDebugName(1) == "Noto Sans CJK SC":
                return font
        raise SystemExit(f"{path}: no Noto Sans CJK SC face in this collection")
    return TTFont(str(path))


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    font = source_font(Path(argv[0]))
    options = subset.Options()
    options.layout_features = ["kern", "liga"]
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=chart_characters())
    subsetter.subset(font)
    names = font["name"]
    for record in names.names:
        if record.nameID in (1, 4, 16):
            record.string = FAMILY
        elif record.nameID == 6:
            record.string = FAMILY.replace(" ", "") + "-Regular"
        elif record.nameID == 3:
            record.string = f"{FAMILY}; subset of Noto Sans CJK SC"
    if "CFF " in font:
        font["CFF "].cff.fontNames = [FAMILY.replace(" ", "") + "-Regular"]
    font.save(str(FONT_PATH))
    print(
        f"{FONT_PATH.relative_to(ROOT)}: {len(chart_characters())} characters, "
        f"{FONT_PATH.stat().st_size:,} bytes"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
