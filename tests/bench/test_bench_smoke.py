"""The benchmarks run, with tiny sizes, so their code cannot rot between real runs.

Nothing here asserts a time: these check that each benchmark plays its journey to the
end and reports the figures the table needs.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from bench import bench_conversation, bench_flood, bench_floor, bench_http, bench_memory, run
from bench.common import Figure, percentile

# Real bot processes: these run one after another on one worker (`-n auto --dist
# loadgroup`), not beside each other, so each keeps the machine it was written for.
pytestmark = pytest.mark.xdist_group("bot-processes")


def test_percentile_is_nearest_rank() -> None:
    samples = [float(n) for n in range(1, 101)]
    assert percentile(samples, 50) == 50.0
    assert percentile(samples, 99) == 99.0
    assert percentile([], 99) == 0.0


def test_floor_echoes_every_message() -> None:
    result = bench_floor.run(users=3, rounds=2)
    assert result["updates"] == 6
    assert result["updates_per_second"] > 0


async def test_every_prospect_finishes_the_pre_qualification_in_process() -> None:
    # Two groups of three, one after the other: six journeys, three at a time.
    result = await bench_conversation.measure(3, min_journeys=5)
    assert result["journey"] == "prequalify"
    assert result["cohorts"] == 2
    assert result["completed"] == 6
    assert result["due_unsent"] == 0  # every queued message woke the sender
    assert result["updates"] == 6 * result["steps"]
    assert set(result["latency"]) == {"p50_ms", "p95_ms", "p99_ms", "max_ms"}


def test_the_profile_names_our_handlers() -> None:
    report = bench_conversation.profile(prospects=2, top=40, min_journeys=2)
    assert "process_update" in report["cumulative"]


async def test_prospects_are_answered_over_http_by_a_long_polling_bot() -> None:
    result = await bench_http.measure(2, (0.0, 0.0))
    assert result["unanswered"] == 0 and result["script_errors"] == 0
    assert result["updates"] == 2 * len(bench_conversation.default_journey()[1])
    assert result["bot_errors"] == 0


async def test_a_flooder_is_measured_beside_prospects_over_http() -> None:
    result = await bench_flood.measure(
        prospects=2, think=(0.0, 0.0), flood_messages=60, flood_seconds=0.5
    )
    assert result["every_prospect_finished"] and result["script_errors"] == 0
    assert result["answers"] == 2 * len(bench_conversation.default_journey()[1])
    assert result["flooder_messages_received"] >= 1  # at least the flood notice
    assert result["exit_code"] == 0 and result["bot_errors"] == 0


def test_memory_and_start_up_are_measured_in_child_processes() -> None:
    result = bench_memory.run(conversations=20, users=50, installments=600)
    assert result["with_conversations"]["loaded"]["user_data"] >= 20
    # Cloned conversations are live: the sampled ones got their next question.
    sampled = result["with_conversations"]
    assert sampled["sample_answered"] == sampled["sample"] > 0
    assert result["portfolio"]["installments"] == 600
    assert result["startup"]["loaded"]["user_data"] == 50


def test_the_table_shows_targets_and_misses() -> None:
    report = run.Report(quick=True)
    report.floor = 1000.0
    report.add(Figure("Conversation", 500.0, "updates/s", "≥ 1,000/s", False, report.ratio(500)))
    table = run.format_table(report)
    assert "NO" in table and "0.500× floor" in table
    # Cut, not rounded: just under the target never reads as reaching it.
    assert report.ratio(299.96) == "0.299× floor"


def test_an_unknown_section_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert run.main(["--only", "everything"]) == 2
    assert "unknown section 'everything'" in capsys.readouterr().err


def test_json_output_lists_the_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert run.main(["--quick", "--json", "--only", "lending"]) == 0
    output = json.loads(capsys.readouterr().out)
    names = [figure["name"] for figure in output["figures"]]
    assert any(name.startswith("Lending") for name in names)
    assert output["mode"] == "quick" and "cores" in output["machine"]


def test_reminder_figures_carry_their_targets() -> None:
    figures = run.reminder_figures(
        {"loans": 100, "scan_seconds": 0.05, "scan_target_seconds": 0.2, "scan_target_met": True,
         "send_per_second": 29.5, "send_ceiling_per_second": 30.0, "send_target_met": True}
    )  # fmt: skip
    assert [(f.value, f.met) for f in figures] == [(0.05, True), (29.5, True)]


def test_reminder_figures_take_the_numbers_of_any_shape() -> None:
    figures = run.reminder_figures({"due_scan": {"loans": 100, "seconds": 0.5}, "rate": 29.5})
    assert [f.name for f in figures] == [
        "Reminders: due scan, loans",
        "Reminders: due scan, seconds",
        "Reminders: rate",
    ]


def test_asyncio_is_left_clean() -> None:
    # The benchmarks use asyncio.run; nothing should leave a loop set for other tests.
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()


async def test_the_conversation_and_http_figures_run_on_postgresql(pg_url: str) -> None:
    result = await bench_conversation.measure(3, min_journeys=3, database=pg_url)
    assert result["completed"] == 3 and result["due_unsent"] == 0
    over_http = await bench_http.measure(2, (0.0, 0.0), database=pg_url)
    assert over_http["unanswered"] == 0 and over_http["bot_errors"] == 0


async def test_a_failover_is_measured_over_real_processes(pg_url: str) -> None:
    from bench import bench_failover

    result = await bench_failover.measure(kills=1, processes=2, database=pg_url)
    assert result["kills"] == 1 and result["missed"] == 0
    assert result["failover_seconds"][0] is not None and result["failover_seconds"][0] > 0
    assert result["p50_seconds"] == result["max_seconds"] == result["failover_seconds"][0]
    assert result["bot_errors"] == 0
    assert result["messages_sent"] > 0
    # The new active process's /metrics, read with prometheus-client's parser, counted
    # exactly the messages the benchmark sent it afterwards.
    agreement = result["metrics"]
    assert agreement["handled_delta"] == agreement["send_message_delta"] == 10, agreement
    assert agreement["agrees"] and agreement["active"] == 1 and agreement["standbys_active"] == []


def test_a_missed_takeover_misses_the_failover_target() -> None:
    figures = run.failover_figures(
        {"kills": 2, "processes": 3, "missed": 1, "failover_seconds": [3.2, None],
         "p50_seconds": 3.2, "max_seconds": 3.2, "target_seconds": 10.0,
         "answer_timeout_seconds": 30.0, "bot_errors": 0}
    )  # fmt: skip
    assert [f.met for f in figures] == [False, False]
    assert "3.2, missed" in figures[0].note
    assert "1 not answered within 30 s" in figures[1].note
