"""Callback data is versioned and checked: forged, stale and foreign payloads unpack to None."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.callbacks import MAX_BYTES, VERSION, pack, pattern, unpack

ACTIONS = frozenset({"claim", "details"})


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "claim:1",  # no version: a hand-made payload
        "v0:claim:1",  # a button from an older release
        "v2:claim:1",  # or from a newer one
        "V1:claim:1",
        "v1",
        "v1:",
        "v1:drop_table:1",  # an action we do not know
        "lang:zh:v1:claim:1",
        " v1:claim:1",
    ],
)
def test_forged_or_stale_callback_data_is_refused(data):
    assert unpack(data, actions=ACTIONS) is None


def test_our_own_buttons_round_trip_and_arguments_stay_untrusted():
    assert unpack(pack("claim", 42), actions=ACTIONS).int_arg() == 42
    forged = unpack("v1:claim:42 OR 1=1", actions=ACTIONS)
    assert forged is not None and forged.int_arg() is None  # the handler refuses it
    assert unpack("v1:claim", actions=ACTIONS).int_arg() is None


def test_pattern_matches_only_this_version_and_these_actions():
    regex = re.compile(pattern("claim"))
    assert regex.match(pack("claim", 1))
    assert not regex.match("v0:claim:1")
    assert not regex.match(pack("claimx", 1))


def test_pack_refuses_what_telegram_would_refuse_or_we_could_not_parse():
    with pytest.raises(ValueError):
        pack("claim", "a:b")
    with pytest.raises(ValueError):
        pack("claim", "x" * MAX_BYTES)


@given(st.text(max_size=80))
def test_any_text_that_is_not_ours_is_refused(data):
    result = unpack(data, actions=ACTIONS)
    if result is not None:
        assert data.startswith(f"{VERSION}:") and result.action in ACTIONS


def test_numbers_in_callback_data_are_bounded_ascii() -> None:
    from services.callbacks import unpack

    assert unpack("v1:claim:42").int_arg() == 42
    assert unpack("v1:offer:7:0").int_arg(1) == 0
    for forged in ("9" * 30, "²", "-1", "#4", "4.0", "١٢"):
        assert unpack(f"v1:claim:{forged}").int_arg() is None
