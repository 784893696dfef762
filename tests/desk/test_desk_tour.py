"""The demo tour starts from a deep link and shows a comparison of repayment methods."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.sandbox.tour import TOUR_STEPS

ROOT = Path(__file__).resolve().parents[2]


def test_tour_starts_from_a_deep_link_and_shows_a_comparison(tmp_path) -> None:
    first_start = next(step for step in TOUR_STEPS if step.startswith("/start"))
    assert first_start.startswith("/start ") and len(first_start.split()) == 2
    env = {"PATH": "", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--tour"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.index(f"Li: {first_start}") < out.index("bot → Li: Hello, Li!")
    compared = out.index("Repayment methods compared")
    for name in ("Equal payments", "Equal principal", "Balloon"):
        assert name in out[compared:]
    assert "¥4,120.91" in out[compared:]  # the same first payment as the result's schedule
