"""Both locales have the same apply_* templates and labels, and the diagram names every state."""

from __future__ import annotations

import tomllib
from pathlib import Path

from handlers.prequalify import states
from services.rendering import TEMPLATE_DIR

FLOW = Path(states.__file__).with_name("flow.mmd")


def test_both_locales_have_the_same_apply_templates() -> None:
    en = {p.name for p in (TEMPLATE_DIR / "en").glob("apply_*.j2")}
    zh = {p.name for p in (TEMPLATE_DIR / "zh").glob("apply_*.j2")}
    assert en == zh and len(en) > 20


def test_both_locales_have_the_same_labels() -> None:
    keys = {}
    for locale in ("en", "zh"):
        with open(TEMPLATE_DIR / locale / "labels_apply.toml", "rb") as handle:
            keys[locale] = set(tomllib.load(handle))
    assert keys["en"] == keys["zh"]
    assert all(key.startswith("apply_") for key in keys["en"])


def test_every_state_is_in_the_diagram() -> None:
    diagram = FLOW.read_text("utf-8")
    for state in (states.CONSENT, states.SUMMARY, *states.QUESTION_STATES):
        assert state in diagram, state


def test_every_question_has_a_field_label_and_summary_name() -> None:
    with open(TEMPLATE_DIR / "en" / "labels_apply.toml", "rb") as handle:
        labels = tomllib.load(handle)
    for question in states.QUESTIONS:
        assert f"apply_field_{question.key}" in labels
        for choice in question.choices:
            assert states.choice_label_key(choice) in labels
