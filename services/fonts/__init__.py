"""Fonts shipped with the code, so a chart looks the same on any machine (no system font
is assumed). `chart-sans.otf` is a subset of Noto Sans CJK SC (SIL Open Font License 1.1,
OFL.txt beside it) holding only the characters the charts draw; rebuild it with
`python scripts/subset_chart_font.py` after changing a word on a chart."""
