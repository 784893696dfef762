"""Failover end to end (issue 21's acceptance test): three `python -m bot run` processes on
one PostgreSQL schema, the sandbox server as Telegram, and the day of workload.py: 50
prospects mid-journey, 40 borrowers due a reminder. The active process is killed with
SIGKILL while reminders go out, later cut off from the database (its backends
terminated, the process left running) and later killed again mid-work; a killed process
is replaced, so three keep running.

Afterwards, as after the crash test: every conversation reached exactly one result, one
lead per application, every reminder delivered once plus one copy per send in flight at a
kill (counted at each; the cut strikes once the reminders are out), no reminder planned
twice. And who acted when, from two oracles outside the bot:

- Telegram's view: every process calls the sandbox under a name of its own
  (TELEGRAM_API_BASE_URL .../p1/bot); in the sandbox's audit of answered calls, those
  that hand updates over or change what people see form one unbroken run per
  activation, runs never interleave, each switch of process follows a kill or a cut, and
  the next process receives updates within 10 s of it (the issue's bound);
- the database's view: a statement trigger on every table records the writing session's
  name (`loanbot <instance id>`) and time; every write by a bot process falls within its
  own activation, from its `active` event to the next one's.

The registry agrees (one `active` event per activation, in that order), and
`python -m bot status` names the active process and the standbys at the end.
"""

from __future__ import annotations

import random
import signal
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.sandbox.control import SandboxClient
from tests.processes import sandbox_server, start_bot, stop
from tests.resilience.workload import (
    caught_in_flight,
    check_journeys,
    check_reminders,
    cli,
    create_people,
    play_round,
    query,
    seed_borrowers,
    settle,
    wait_for_reminder,
    workload_env,
    zone,
)

# Real bot processes: these run one after another on one worker (`-n auto --dist
# loadgroup`), not beside each other, so each keeps the machine it was written for.
pytestmark = pytest.mark.xdist_group("bot-processes")

PROCESSES = 3
SEED = 21
# The requirement: another process answers within 10 s of a kill or a cut.
TAKEOVER_LIMIT_SECONDS = 10.0
# Rounds of the journeys at which the active process is cut off, then killed again (the
# first kill strikes in round 0, while the reminders go out).
CUT_ROUNDS = range(2, 5)
KILL_ROUNDS = range(6, 10)
PROBE = 5999  # asks for /help while a takeover is awaited, so there is an update to answer
# Calls that change nothing a person sees (getUpdates counts when it hands updates over).
READS = {"getMe", "getUpdates", "getMyCommands", "getChat", "getChatMember", "getFile"}
# Who wrote the database when, kept by PostgreSQL itself: a statement trigger on every
# table but the processes' registry records the writing session's name (a bot process's
# is `loanbot <instance id>`) and the server's clock.
WRITE_AUDIT = """
CREATE TABLE test_write_audit (app TEXT NOT NULL, tbl TEXT NOT NULL, at TIMESTAMPTZ NOT NULL);
CREATE FUNCTION test_write_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO test_write_audit
    VALUES (current_setting('application_name'), TG_TABLE_NAME, clock_timestamp());
    RETURN NULL;
END $$;
"""
UNAUDITED = {"instances", "instance_events", "schema_version", "test_write_audit"}


@dataclass
class Bot:
    name: str  # its path prefix at the sandbox: the audit's caller
    process: subprocess.Popen[str]
    output: str = ""


@dataclass
class Loss:
    kind: str  # "kill" or "cut"
    victim: str
    at: float  # time.monotonic(), one clock for this machine's processes
    wall: datetime = field(default_factory=lambda: datetime.now(UTC))
    settled: float = 0.0  # when the in-flight count was taken (before any takeover)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[tuple[SandboxClient, str]]:
    with sandbox_server(tmp_path) as running:
        yield running


def _acting(call: list) -> bool:
    _, method, _, updates = call
    return method not in READS or updates > 0


def _runs(audit: list) -> list[tuple[str, float, float]]:
    """The acting calls, in order, as runs of one caller: (caller, first, last)."""
    runs: list[tuple[str, float, float]] = []
    for caller, _, at, _ in sorted((c for c in audit if _acting(c)), key=lambda c: c[2]):
        if runs and runs[-1][0] == caller:
            runs[-1] = (caller, runs[-1][1], at)
        else:
            runs.append((caller, at, at))
    return runs


def _receiving(client: SandboxClient, since: float, lost: str = "", within: float = 30) -> str:
    """The process that receives updates after `since`, other than `lost` (waited for).
    Meanwhile the probe asks for /help every second, so whoever takes over has an update
    to receive."""
    until = time.monotonic() + within
    asked = 0.0
    while True:
        taking = [c for c in client.audit() if c[3] and c[2] > since and c[0] != lost]
        if taking:
            return taking[0][0]
        assert time.monotonic() < until, f"no process acted within {within} s"
        if time.monotonic() - asked >= 1:
            client.act(PROBE, "command", "/help")
            asked = time.monotonic()
        time.sleep(0.05)


def _terminate_backends(database: str, pid: int) -> int:
    """Cut process `pid` off the database: end every session it has (its pool's and its
    active lock's, named `loanbot <host>:<pid>:<hex>`), leaving the process running."""
    return len(
        query(
            database,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE ?",
            (f"%:{pid}:%",),
        )
    )


def _audit_writes(database: str) -> None:
    import psycopg

    with psycopg.connect(database, autocommit=True) as db:
        db.execute(WRITE_AUDIT)
        tables = db.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        ).fetchall()
        for (table,) in tables:
            if table not in UNAUDITED:
                db.execute(
                    f"CREATE TRIGGER test_write_audit AFTER INSERT OR UPDATE OR DELETE ON {table}"
                    " FOR EACH STATEMENT EXECUTE FUNCTION test_write_audit()"
                )


def _reminders_queued(database: str) -> int:
    return query(
        database,
        "SELECT count(*) FROM outbox WHERE status = 'pending' AND dedup_key LIKE 'reminder:%'",
    )[0][0]


def test_the_active_process_killed_or_cut_off_another_takes_over(sandbox, tmp_path, pg_url):
    client, base_url = sandbox
    root = base_url.removesuffix("/bot")
    local = zone()
    env = workload_env(tmp_path, base_url, pg_url, local, token="123456:FAILOVER-TEST")
    rng = random.Random(SEED)
    create_people(client)
    client.user(PROBE, "Probe", "en")
    today = datetime.now(ZoneInfo(local)).date()
    expected = seed_borrowers(client, env, tmp_path, pg_url, today, random.Random(SEED + 1))
    borrowers = sorted(expected)  # the order reminders are queued (and sent) in
    _audit_writes(pg_url)

    bots: dict[str, Bot] = {}

    def launch() -> None:
        name = f"p{len(bots) + 1}"
        process = start_bot({**env, "TELEGRAM_API_BASE_URL": f"{root}/{name}/bot"}, tmp_path)
        bots[name] = Bot(name, process)

    for _ in range(PROCESSES):
        launch()
    cut_round, kill_round = rng.choice(CUT_ROUNDS), rng.choice(KILL_ROUNDS)
    watch = borrowers[rng.randrange(4, 14)]
    losses: list[Loss] = []
    caught: Counter[int] = Counter()  # borrowers whose reminder was mid-delivery at a loss
    queued_at_loss: list[int] = []
    takeovers: list[float] = []
    deadline = time.monotonic() + 180  # a bound for a hang, generous for a loaded machine
    try:
        active = _receiving(client, since=0)
        for round_no in range(60):
            going = play_round(client)
            if not going:
                break
            assert time.monotonic() < deadline, f"not done in time; {going} still going"
            if round_no == 0:
                wait_for_reminder(client, watch)  # reminders are going out
            elif round_no in (cut_round, kill_round):
                time.sleep(rng.uniform(0.05, 0.6))  # somewhere in the middle of the work
            else:
                client.wait_quiet(quiet=0.2, within=20)
                continue
            victim = bots[active]
            if round_no == cut_round:
                # What was in flight is counted when nobody sends; a cut process sends
                # until its lease runs out and a standby soon after, so the cut strikes
                # once the reminders are all out, and none of them may show twice.
                while _reminders_queued(pg_url):
                    assert time.monotonic() < deadline, "the reminders never all went out"
                    time.sleep(0.05)
                loss = Loss("cut", active, time.monotonic())
                assert _terminate_backends(pg_url, victim.process.pid) >= 2
                queued_at_loss.append(0)
            else:
                victim.process.send_signal(signal.SIGKILL)
                loss = Loss("kill", active, time.monotonic())
                victim.process.wait()
                queued, on_screen = caught_in_flight(client, pg_url, borrowers)
                queued_at_loss.append(len(queued))
                caught.update(on_screen)
                victim.output = stop(victim.process)
                launch()
            loss.settled = time.monotonic()
            losses.append(loss)
            active = _receiving(client, since=loss.at, lost=loss.victim)
            client.wait_quiet(quiet=0.2, within=20)
        settle(pg_url, within=1)  # digests may wait longer: check_journeys allows for it
        audit = client.audit()
        status = cli(env, tmp_path, "status")
        running = {bot.name for bot in bots.values() if bot.process.poll() is None}
    finally:
        for bot in bots.values():
            if bot.process.returncode is None:
                bot.output = stop(bot.process)
    output = "\n".join(f"--- {bot.name}\n{bot.output[-1500:]}" for bot in bots.values())
    assert [loss.kind for loss in losses] == ["kill", "cut", "kill"], losses

    check_journeys(client, pg_url, output)
    assert queued_at_loss[0], "the first kill did not strike while reminders were going out"
    check_reminders(client, pg_url, expected, caught)

    # Who acted when, as Telegram saw it: one run per activation, in order, each switch
    # after a loss and within the limit of it, no acting before the in-flight count.
    runs = _runs(audit)
    assert len(runs) == len(losses) + 1, (runs, losses)
    for loss, (before, after) in zip(losses, zip(runs, runs[1:], strict=False), strict=True):
        assert before[0] == loss.victim, (loss, runs)
        assert after[0] != loss.victim, (loss, runs)
        # Nothing went out between the loss and the count of what was in flight then.
        assert after[1] > loss.settled, ("acted before the in-flight count", loss, runs)
        received = next(c[2] for c in audit if c[0] == after[0] and c[3] and c[2] > loss.at)
        takeovers.append(received - loss.at)
    print(
        "updates received again after "
        + ", ".join(f"{loss.kind} {t:.1f} s" for loss, t in zip(losses, takeovers, strict=True))
        + f"; reminders queued at each loss: {queued_at_loss}; shown twice: {sorted(caught)}"
    )
    assert all(t <= TAKEOVER_LIMIT_SECONDS for t in takeovers), takeovers

    # The registry's own account: one `active` event per activation, by the same processes.
    pids = {bot.name: bot.process.pid for bot in bots.values()}
    activations = [
        int(instance_id.split(":")[-2])
        for (instance_id,) in query(
            pg_url, "SELECT instance_id FROM instance_events WHERE event = 'active' ORDER BY id"
        )
    ]
    assert activations == [pids[caller] for caller, _, _ in runs], (activations, runs, pids)

    # The database's account: every write by a bot process falls in its own activation
    # (from its `active` event to the next process's), none by a standby or a fenced one.
    turns = query(
        pg_url, "SELECT instance_id, at FROM instance_events WHERE event = 'active' ORDER BY id"
    )
    writes = query(
        pg_url, "SELECT app, tbl, at FROM test_write_audit WHERE app LIKE 'loanbot %' ORDER BY at"
    )
    assert writes, "the write audit saw nothing"
    strays = []
    for app, table, at in writes:
        current = [instance_id for instance_id, since in turns if since <= at]
        if not current or app != f"loanbot {current[-1]}":
            strays.append((app, table, at))
    assert not strays, (
        [(app, table, f"{at:%H:%M:%S.%f}") for app, table, at in strays[:20]],
        [(i, f"{at:%H:%M:%S.%f}") for i, at in turns],
        [(loss.kind, pids[loss.victim], f"{loss.wall:%H:%M:%S.%f}") for loss in losses],
    )

    cut = next(loss for loss in losses if loss.kind == "cut")
    stood_down = query(
        pg_url,
        "SELECT min(at) FROM instance_events WHERE event = 'fenced' AND instance_id LIKE ?",
        (f"%:{pids[cut.victim]}:%",),
    )[0][0]
    print(f"the cut process stood down after {(stood_down - cut.wall).total_seconds():.1f} s")

    # `status`: the last active process, and the running others as standbys.
    host = socket.gethostname()
    lines = status.splitlines()
    last = pids[runs[-1][0]]
    assert lines[0].startswith(f"active: {host} pid {last}, since "), status
    standbys = {pids[name] for name in running if pids[name] != last}
    assert len(standbys) == PROCESSES - 1
    assert lines[1].startswith("standby: "), status
    listed = {int(part.split(" pid ")[1].split(",")[0]) for part in lines[1][9:].split("; ")}
    assert listed == standbys, status
