"""Run every benchmark and print one table: each figure, its target, and whether it is met.

    python bench/run.py [--quick] [--json] [--only floor,conversation,...]
    python -m bench [...]

--quick keeps the whole run under two minutes on a 2-core machine (smaller samples: the
figures are noisier, the shape is the same). Throughput figures are also shown as a ratio
to the floor (python-telegram-bot's own echo bot on the same in-process door), measured
in the same run. The benchmarks are not tests: a missed target is reported, not raised.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/run.py` puts bench/ first, not the project
    sys.path.insert(0, str(ROOT))

from bench.common import Figure, at_least, at_most  # noqa: E402

SECTIONS = (
    "floor",
    "conversation",
    "http",
    "flood",
    "memory",
    "lending",
    "reminders",
    "postgresql",
    "failover",
    "profile",
)


class Report:
    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.figures: list[Figure] = []
        self.raw: dict[str, Any] = {}
        self.failed: dict[str, str] = {}
        self.floor: float | None = None
        self.profile: dict[str, Any] | None = None

    def add(self, figure: Figure) -> None:
        self.figures.append(figure)

    def ratio(self, updates_per_second: float) -> str:
        if not self.floor:
            return ""
        # Cut, not rounded, to three places: 0.2950 printed as "0.30×" beside "no" misleads.
        ratio = math.floor(updates_per_second / self.floor * 1000) / 1000
        return f"{ratio:.3f}× floor"


def floor_section(report: Report) -> None:
    from bench import bench_floor

    result = bench_floor.run(report.quick)
    report.raw["floor"] = result
    report.floor = result["updates_per_second"]
    report.add(
        Figure(
            "Floor: PTB echo bot, in-process door",
            result["updates_per_second"],
            "updates/s",
            note=f"{result['updates']} updates, p99 {result['latency']['p99_ms']} ms; median of "
            + ", ".join(f"{r:,.0f}" for r in result["runs_updates_per_second"]),
        )
    )


def conversation_section(report: Report) -> None:
    from bench import bench_conversation

    result = bench_conversation.run(report.quick)
    report.raw["conversation"] = result
    for run in result["runs"]:
        rate = run["updates_per_second"]
        ratio = rate / report.floor if report.floor else None
        met = rate >= 1000 and (ratio is None or ratio >= 0.3)
        done = run.get("completed")
        journeys = run["prospects"] * run["cohorts"]
        completed = f", {done}/{journeys} completed" if done is not None else ""
        one_after_another = (
            f" ({run['cohorts']} groups one after another)" if run["cohorts"] > 1 else ""
        )
        rates = run.get("runs_updates_per_second", [rate])
        if len(rates) > 1:
            one_after_another += f"; median of {', '.join(f'{r:,.0f}' for r in rates)}"
        if run["due_unsent"]:
            completed += f", {run['due_unsent']} queued without waking the outbox"
        report.add(
            Figure(
                f"Conversation ({run['journey']}), {run['prospects']} prospects",
                rate,
                "updates/s",
                "≥ 1,000/s and ≥ 0.30× floor",
                met,
                f"{report.ratio(rate)}; {run['updates']} updates{completed}{one_after_another}",
            )
        )
        lat = run["latency"]
        report.add(
            Figure(
                f"  latency per update, {run['prospects']} prospects",
                f"{lat['p50_ms']:.1f} / {lat['p95_ms']:.1f} / {lat['p99_ms']:.1f}",
                "ms p50/p95/p99",
            )
        )


def http_section(report: Report) -> None:
    from bench import bench_http

    result = bench_http.run(report.quick)
    report.raw["http"] = result
    floor = result.get("floor_flat_out")
    http_floor = floor["updates_per_second"] if floor else None
    if floor:
        lat = floor["latency"]
        report.add(
            Figure(
                f"HTTP floor: PTB echo bot long polling, {floor['prospects']} users, flat out",
                http_floor,
                "updates/s",
                note=f"{report.ratio(http_floor)}; answer p50 {lat['p50_ms']:.1f} ms, "
                f"p99 {lat['p99_ms']:.1f} ms",
            )
        )
    labels = (
        ("paced", "2-8 s per answer"),
        ("hurried", "hurried, 0.5-1.5 s per answer"),
        ("flat_out", "flat out"),
    )
    for key, label in labels:
        if key not in result:
            continue
        run = result[key]
        lat = run["latency"]
        rate = run["updates_per_second"]
        problems = []
        if run["unanswered"]:
            problems.append(f"{run['unanswered']} unanswered")
        if run["script_errors"]:
            problems.append(f"{run['script_errors']} journeys broke (button missing)")
        if run["bot_errors"]:
            problems.append(f"{run['bot_errors']} tracebacks in the bot's log")
        ratios = [report.ratio(rate)]
        if http_floor and key == "flat_out":
            ratios.append(f"{rate / http_floor:.2f}× HTTP floor")
        if run.get("window_seconds"):
            ratios.append(f"{run['updates']} answers in a {run['window_seconds']:.0f} s window")
        note = "; ".join(ratios + problems)
        report.add(
            Figure(f"HTTP long polling, {run['prospects']} prospects, {label}", rate, "updates/s",
                   note=note)
        )  # fmt: skip
        paced = key == "paced"
        report.add(
            Figure(
                "  message → answer p50 / p99",
                f"{lat['p50_ms']:.1f} / {lat['p99_ms']:.1f}",
                "ms",
                "p99 < 100 ms" if paced else "",
                at_most(lat["p99_ms"], 100) if paced else None,
            )
        )


def flood_section(report: Report) -> None:
    from bench import bench_flood

    result = bench_flood.run(report.quick)
    report.raw["flood"] = result
    lat = result["latency"]
    finished = result["every_prospect_finished"]
    problems = [f"{result['unanswered']} unanswered"] if result["unanswered"] else []
    if result["bot_errors"]:
        raised = "; ".join(sorted(set(result.get("bot_error_lines", []))))[:200]
        problems.append(f"{result['bot_errors']} tracebacks in the bot's log ({raised})")
    report.add(
        Figure(
            f"Flood isolation over HTTP: {result['prospects']} prospects "
            f"({result['think_seconds'][0]:g}-{result['think_seconds'][1]:g} s per answer) "
            f"beside a user sending {result['flood_messages']} in {result['flood_seconds']:g} s",
            f"{lat['p50_ms']:.1f} / {lat['p99_ms']:.1f}",
            "ms p50/p99",
            "p99 < 1 s, all finish",
            lat["p99_ms"] < 1000 and finished,
            "; ".join(
                [f"{result['answers']} answers, every prospect finished: "
                 f"{'yes' if finished else 'NO'}", f"{result['answered_429']} answered 429",
                 *problems]
            ),
        )
    )  # fmt: skip
    report.add(
        Figure(
            "  messages the flooder got",
            result["flooder_messages_received"],
            "",
            "≤ 5",
            at_most(result["flooder_messages_received"], 5),
        )
    )
    report.add(
        Figure(
            "  SIGTERM during a flood: the bot has exited after",
            result["stop_seconds"],
            "s",
            "< 10 s",
            at_most(result["stop_seconds"], 10) and result["exit_code"] == 0,
            f"exit code {result['exit_code']}",
        )
    )


def memory_section(report: Report) -> None:
    from bench import bench_memory

    result = bench_memory.run(report.quick)
    report.raw["memory"] = result
    loaded = result["with_conversations"]
    report.add(
        Figure(
            f"Resident memory, {result['conversations']:,} conversations in progress",
            result["rss_mb"],
            "MB",
            "< 200 MB",
            at_most(result["rss_mb"], 200),
            f"empty bot {result['baseline']['rss_started_mb']} MB; "
            f"{loaded['sample_answered']}/{loaded['sample']} sampled answered",
        )
    )
    report.add(Figure("  memory per conversation", result["kb_per_conversation"], "kB"))
    portfolio = result["portfolio"]
    startup = result["startup"]
    report.add(
        Figure(
            f"Start-up, {portfolio['users']:,} users, {portfolio['installments']:,} installments",
            result["startup_seconds"],
            "s",
            "< 3 s",
            at_most(result["startup_seconds"], 3),
            f"build + initialize + getMe; imports {startup['import_seconds']} s more; "
            f"persistence loaded {startup['loaded']['user_data']:,} user_data",
        )
    )


def lending_section(report: Report) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from bench import bench_lending

    result = bench_lending.run(report.quick)
    report.raw["lending"] = result
    rate = result["assessments_per_second"]
    report.add(
        Figure(
            "Lending: full assessments with counter-offers, one core",
            rate,
            "/s",
            "≥ 2,000/s",
            at_least(rate, 2000),
            f"{result['applicants']} applicants, {result['counter_offers']} counter-offers;"
            f" fastest of {result['passes']} passes",
        )
    )
    report.add(
        Figure(
            "Lending: repayment schedules",
            result["schedules_per_second"],
            "/s",
            note=f"average term {result['average_term_months']} months",
        )
    )


def reminders_section(report: Report) -> None:
    if importlib.util.find_spec("bench.bench_reminders") is None:
        report.add(
            Figure("Reminders", None, "", note="bench/bench_reminders.py does not exist yet")
        )
        return
    from bench import bench_reminders

    result = bench_reminders.run(report.quick)
    report.raw["reminders"] = result
    for figure in reminder_figures(result):
        report.add(figure)


def reminder_figures(result: dict[str, Any]) -> list[Figure]:
    """The reminders benchmark's figures: the known keys with their targets, and any
    other number as it comes (so a new key in bench_reminders.py still shows)."""
    if "scan_seconds" not in result:
        return _plain_figures(result)
    scan_target = result.get("scan_target_seconds")
    figures = [
        Figure(
            f"Reminders: one day's due-scan, {result.get('loans', 0):,} loans",
            result["scan_seconds"],
            "s",
            f"< {scan_target} s" if scan_target else "",
            result.get("scan_target_met"),
            f"{result.get('installments', 0):,} installments, {result.get('due_found')} due; "
            f"partial index used: {'yes' if result.get('uses_partial_index') else 'NO'}",
        )
    ]
    if "queue_seconds" in result:
        figures.append(
            Figure(
                "  queueing that day's reminders",
                result["queue_seconds"],
                "s",
                note=f"{result.get('queued')} queued",
            )
        )
    if "send_per_second" in result:
        ceiling = result.get("send_ceiling_per_second")
        figures.append(
            Figure(
                "Reminders: sending under flood limits (AIORateLimiter)",
                result["send_per_second"],
                "msg/s",
                f"≈ {ceiling}/s ceiling, none lost" if ceiling else "",
                result.get("send_target_met"),
                f"{result.get('send_delivered')}/{result.get('send_messages')} delivered, "
                f"{result.get('send_answered_429')} answered 429, {result.get('send_lost')} lost",
            )
        )
    return figures


def _plain_figures(result: dict[str, Any]) -> list[Figure]:
    figures = []
    for key, value in result.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            figures.append(Figure(f"Reminders: {key.replace('_', ' ')}", value, ""))
        elif isinstance(value, dict):
            for inner, inner_value in value.items():
                if isinstance(inner_value, int | float) and not isinstance(inner_value, bool):
                    name = f"Reminders: {key.replace('_', ' ')}, {inner.replace('_', ' ')}"
                    figures.append(Figure(name, inner_value, ""))
    return figures


def profile_section(report: Report) -> None:
    from bench import bench_conversation

    report.profile = bench_conversation.profile(prospects=20 if report.quick else 50)
    report.raw["profile"] = report.profile


def postgresql_section(report: Report) -> None:
    from bench import bench_postgres

    reason = bench_postgres.unavailable()
    if reason:
        report.add(Figure("PostgreSQL: not measured", None, "", met=False, note=reason))
        return
    result = bench_postgres.run(report.quick)
    report.raw["postgresql"] = result
    for pair in result["conversation"]:
        lite, pg = pair["sqlite"], pair["postgresql"]
        ratio = pg["updates_per_second"] / lite["updates_per_second"]
        report.add(
            Figure(
                f"PostgreSQL: conversation, {pair['prospects']} prospects",
                pg["updates_per_second"],
                "updates/s",
                "≥ 0.25× SQLite's",
                ratio >= 0.25,
                f"{ratio:.2f}× SQLite's {lite['updates_per_second']:,.0f}/s in this run; "
                f"p99 {pg['latency']['p99_ms']:.1f} ms; synchronous_commit on",
            )
        )
    paced = result["paced_http"]
    lat = paced["latency"]
    report.add(
        Figure(
            f"PostgreSQL: HTTP long polling, {paced['prospects']} prospects, 2-8 s per answer",
            f"{lat['p50_ms']:.1f} / {lat['p99_ms']:.1f}",
            "ms p50/p99",
            "p99 < 100 ms",
            lat["p99_ms"] < 100 and not paced["unanswered"],
            f"{paced['updates']} answers, {paced['unanswered']} unanswered, "
            f"{paced['bot_errors']} tracebacks",
        )
    )


def failover_section(report: Report) -> None:
    from bench import bench_failover, bench_postgres

    reason = bench_postgres.unavailable()
    if reason:
        report.add(Figure("Failover: not measured", None, "", met=False, note=reason))
        return
    result = bench_failover.run(report.quick)
    report.raw["failover"] = result
    for figure in failover_figures(result):
        report.add(figure)


def failover_figures(result: dict[str, Any]) -> list[Figure]:
    """p50 and max of kill → first update answered by the new active process."""
    target = result["target_seconds"]
    missed = result["missed"]
    each = ", ".join("missed" if s is None else f"{s:.1f}" for s in result["failover_seconds"])
    note = (
        f"{result['kills']} SIGKILLs of the active process among {result['processes']} on "
        f"PostgreSQL; each: {each} s"
    )
    if result["bot_errors"]:
        note += f"; {result['bot_errors']} tracebacks in the bots' logs"
    return [
        Figure(
            "Failover: kill → first answer by the new active process, p50",
            result["p50_seconds"],
            "s",
            f"≤ {target:g} s",
            at_most(result["p50_seconds"], target) and not missed,
            note,
        ),
        Figure(
            "  max",
            result["max_seconds"],
            "s",
            f"≤ {target:g} s",
            at_most(result["max_seconds"], target) and not missed,
            f"{missed} not answered within {result['answer_timeout_seconds']:g} s"
            if missed
            else "",
        ),
        *_metrics_agreement(result.get("metrics")),
    ]


def _metrics_agreement(agreement: dict[str, Any] | None) -> list[Figure]:
    """The new active process's /metrics beside the benchmark's own count of messages."""
    if agreement is None:
        return []
    return [
        Figure(
            "  /metrics agree with the benchmark's counts",
            agreement["handled_delta"],
            "handled",
            f"= {agreement['messages']}",
            agreement["agrees"],
            f"sendMessage +{agreement['send_message_delta']:g}, outbox pending "
            f"{agreement['outbox_pending']}, active {agreement['active']}, standbys "
            f"{agreement['standbys_active']} (parsed with prometheus-client's parser)",
        )
    ]


RUNNERS: dict[str, Callable[[Report], None]] = {
    "floor": floor_section,
    "conversation": conversation_section,
    "http": http_section,
    "flood": flood_section,
    "memory": memory_section,
    "lending": lending_section,
    "reminders": reminders_section,
    "postgresql": postgresql_section,
    "failover": failover_section,
    "profile": profile_section,
}


def machine() -> str:
    memory = ""
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            kib = int(info.readline().split()[1])
        memory = f", {kib / 2**20:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{os.cpu_count()} cores{memory}, Python {platform.python_version()}, "
        f"python-telegram-bot {_ptb_version()}, {platform.system()}"
    )


def _ptb_version() -> str:
    import telegram

    return telegram.__version__


def format_table(report: Report) -> str:
    rows = [("Figure", "Value", "Unit", "Target", "Met", "Note")]
    for f in report.figures:
        value = (
            "—"
            if f.value is None
            else (f"{f.value:,}" if not isinstance(f.value, str) else f.value)
        )
        met = {True: "yes", False: "NO", None: ""}[f.met]
        rows.append((f.name, value, f.unit, f.target, met, f.note))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        cells = [
            str(c).ljust(w) if i != 1 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("| " + " | ".join(cells) + " |")
        if index == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller samples, < 2 minutes")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    parser.add_argument("--only", help=f"comma-separated sections: {','.join(SECTIONS)}")
    args = parser.parse_args(argv)
    sections = SECTIONS
    if args.only:
        sections = tuple(s.strip() for s in args.only.split(",") if s.strip())
        unknown = [s for s in sections if s not in SECTIONS]
        if unknown:
            print(f"--only: unknown section {unknown[0]!r}; known: {', '.join(SECTIONS)}",
                  file=sys.stderr)  # fmt: skip
            return 2
        if "conversation" in sections and "floor" not in sections:
            sections = ("floor", *sections)  # ratios need the floor from this run
    from telegram.warnings import PTBUserWarning

    warnings.filterwarnings("ignore", category=PTBUserWarning)
    report = Report(args.quick)
    started = time.perf_counter()
    for name in sections:
        section_started = time.perf_counter()
        try:
            RUNNERS[name](report)
        except Exception as error:  # one broken benchmark must not hide the others
            report.failed[name] = "".join(traceback.format_exception_only(error)).strip()
            report.add(
                Figure(f"{name}: FAILED", None, "", met=False, note=report.failed[name][:120])
            )
            if not args.json:
                traceback.print_exc()
        report.raw.setdefault("seconds", {})[name] = round(time.perf_counter() - section_started, 1)
    elapsed = time.perf_counter() - started
    header = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": machine(),
        "mode": "quick" if args.quick else "full",
        "seconds": round(elapsed, 1),
    }
    if args.json:
        print(json.dumps({**header, "figures": [f.as_dict() for f in report.figures],
                          "failed": report.failed, "details": report.raw}, default=str))  # fmt: skip
    else:
        print(f"Benchmarks, {header['mode']} run, {header['date']}, {header['machine']}, "
              f"{header['seconds']} s\n")  # fmt: skip
        print(format_table(report))
        if report.profile:
            print(f"\nProfile of the conversation benchmark ({report.profile['prospects']} "
                  f"prospects, {report.profile['updates']} updates), by cumulative time:\n")  # fmt: skip
            print(report.profile["cumulative"])
            print(
                "\nOur code only (handlers, services, storage, lending, bot), by cumulative time:\n"
            )
            print(report.profile["ours"])
            print("\nBy own time:\n")
            print(report.profile["own"])
    return 1 if report.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
