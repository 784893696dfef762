"""Every command, given bad input as a new user would type it: exit status 2, exactly one
line on stderr, no traceback, the database's content unchanged and no file left behind.

One table, run in real subprocesses a few at a time: a few cases as `python -m bot ...` of
their own (those where the process itself matters: a hang at exit, a closed pipe), the
rest grouped, several to an interpreter (tests/cli/case_runner.py calls the same `main`),
since starting Python costs seconds each on a busy machine. The cases share one folder and
one database holding a booked loan (`L1`), a recorded payment (`P1`) and a source
(`show`), so "already booked" and "taken" are real; no case may write to them.

The table runs on SQLite (its DATABASE_PATH cases are about the file); a bad DATABASE_URL
has cases of its own, and the refusals that read the database ("already booked", "taken")
run on both databases in tests/loans/test_loans_import.py and tests/desk/test_source_links.py.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest

from lending.policy import DEFAULT_POLICY_PATH
from tests.desk.helpers import ANSWERS
from tests.processes import base_env

WORKERS = 3
GROUP = 12  # cases to an interpreter
TIMEOUT = 120  # for a group; a hang is a failure, not a stuck suite

LOAN_HEADER = "loan_ref,telegram_id,principal,annual_rate,term_months,first_due_date"
PAY_HEADER = "payment_ref,loan_id,n,amount"
QUOTE = ["quote", "--price", "100000", "--down", "0", "--term", "36", "--rate", "4"]


def _due() -> str:
    return (date.today() + timedelta(days=20)).isoformat()


def loan_row(**changes: str) -> str:
    row = {"loan_ref": "L9", "telegram_id": "1001", "principal": "120000",
           "annual_rate": "4.8", "term_months": "12", "first_due_date": _due()}  # fmt: skip
    row.update(changes)
    return LOAN_HEADER + "\n" + ",".join(row.values()) + "\n"


def answers(**changes: object) -> str:
    return json.dumps({**ANSWERS, **changes})


def quote(**changes: str) -> list[str]:
    argv = list(QUOTE)
    for option, value in changes.items():
        flag = "--" + option
        if flag in argv:
            argv[argv.index(flag) + 1] = value
        else:
            argv += [flag, value]
    return argv


@dataclass
class Case:
    name: str
    argv: list[str]
    files: dict[str, str | bytes] = field(default_factory=dict)  # written before the run
    env: dict[str, str] = field(default_factory=dict)
    says: str = ""  # a piece of the one line that names what was wrong
    alone: bool = False  # a process of its own: `python -m bot ...`


# Input files are numbered, not named after their case: a file name must not say what the
# message is expected to say.
_numbers = itertools.count(1)


def policy(text: str, says: str, name: str) -> Case:
    file = f"p{next(_numbers)}.toml"
    return Case(name, ["policy", "check", file], {file: text}, says=says)


def loans(name: str, body: str | bytes, says: str) -> Case:
    file = f"l{next(_numbers)}.csv"
    return Case(name, ["loans", "import", file], {file: body}, says=says)


def payments(name: str, body: str, says: str) -> Case:
    file = f"m{next(_numbers)}.csv"
    return Case(name, ["payments", "import", file], {file: body}, says=says)


CASES = [
    # --- quote: every figure bounded, every option named ---------------------------------
    Case("quote-price-1e30", quote(price="1e30"), says="--price", alone=True),
    Case("quote-price-25-digits", quote(price="9" * 26), says="--price"),
    Case("quote-price-power", quote(price="10^25"), says="--price"),
    Case("quote-price-tiny", quote(price="0.001"), says="--price"),
    Case("quote-price-negative", quote(price="-5"), says="--price"),
    Case("quote-price-zero", quote(price="0"), says="--price"),
    Case("quote-price-nan", quote(price="NaN"), says="--price"),
    Case("quote-price-inf", quote(price="inf"), says="--price"),
    Case("quote-price-empty", quote(price=""), says="--price"),
    Case("quote-fee-absurd", quote(fee="99999.99"), says="--fee"),
    Case("quote-fee-negative", quote(fee="-1"), says="--fee"),
    Case("quote-down-whole-price", quote(down="100000"), says="--down"),
    Case("quote-term-zero", quote(term="0"), says="--term"),
    Case("quote-term-fraction", quote(term="1.5"), says="--term"),
    Case("quote-term-huge", quote(term="1000"), says="--term"),
    Case("quote-rate-above-legal", quote(rate="37"), says="--rate"),
    Case("quote-rate-negative", quote(rate="-1"), says="--rate"),
    Case("quote-balloon-over", quote(method="balloon", balloon="101"), says="--balloon"),
    Case("quote-balloon-wrong-method", quote(balloon="10"), says="--balloon"),
    Case("quote-start-year-9999", quote(start="9999-12-01"), says="--start"),
    Case("quote-start-not-date", quote(start="tomorrow"), says="--start"),
    Case("quote-method-unknown", quote(method="weekly"), says="--method"),
    Case("quote-option-missing", ["quote", "--price", "1"], says="required"),
    Case("quote-option-unknown", [*QUOTE, "--colour", "red"], says="--colour"),
    Case("quote-compare-fee-absurd", [*quote(fee="99999.99"), "--compare"], says="--fee"),
    # --- assess ------------------------------------------------------------------------
    Case("assess-missing", ["assess", "nothing.json"], says="not found"),
    Case("assess-directory", ["assess", "folder"], says="directory"),
    Case("assess-latin1", ["assess", "latin.json"], {"latin.json": "{\"n\": \"é\"}".encode("latin-1")}, says="UTF-8"),
    Case("assess-not-json", ["assess", "a.json"], {"a.json": "price=1"}, says="not valid JSON"),
    Case("assess-array", ["assess", "b.json"], {"b.json": "[1, 2]"}, says="JSON object"),
    Case("assess-age-true", ["assess", "c.json"], {"c.json": answers(age=True)}, says="age"),
    Case("assess-unknown-key", ["assess", "d.json"], {"d.json": answers(colour="red")}, says="colour"),
    Case("assess-price-1e30", ["assess", "e.json"], {"e.json": answers(price=1e30)}, says="price"),
    Case("assess-price-text", ["assess", "f.json"], {"f.json": answers(price="10^25")}, says="price"),
    Case("assess-price-nan", ["assess", "g.json"], {"g.json": answers(price="NaN")}, says="price"),
    Case("assess-term-not-offered", ["assess", "h.json"], {"h.json": answers(term_months=72)}, says="term_months"),
    Case("assess-today-9999", ["assess", "i.json", "--today", "9999-12-31"], {"i.json": answers()}, says="--today"),
    Case("assess-policy-missing", ["assess", "j.json", "--policy", "none.toml"], {"j.json": answers()}, says="none.toml"),
    Case("assess-policy-from-env", ["assess", "k.json"], {"k.json": answers()}, env={"POLICY_PATH": "none.toml"}, says="POLICY_PATH"),
    # --- policy ------------------------------------------------------------------------
    Case("policy-missing", ["policy", "check", "none.toml"], says="not found"),
    Case("policy-directory", ["policy", "check", "folder"], says="directory"),
    Case("policy-binary", ["policy", "check", "picture.png"], says="picture.png"),
    policy("[ltv\n", "not valid TOML", "unclosed"),
    policy("[ltv]\ncolour = 1\n", "colour", "unknown-key"),
    policy("[ltv]\nused = 'seventy'\n", "ltv.used", "wrong-type"),
    policy("[eligibility]\nmin_age = 70\n", "max_age_at_end", "min-age-70"),
    policy("[affordability]\nmax_payment_to_income = 60\n", "max_payment_to_income", "pti-over-dti"),
    policy("[terms]\noffered_months = [12, 24, 36, 48, 60, 72]\n", "offered_months", "term-72"),
    policy("[ltv]\nused = 80\n", "ltv.used", "used-ltv-80"),
    policy("[terms]\nmax_months_used = 48\n", "max_months_used", "used-term-48"),
    policy("[rates.fixed]\nA = 9\nB = 4.8\nC = 6.5\n", "rates.fixed", "rates-upside-down"),
    policy("[balloon]\ndefault_percent = 50\n", "default_percent", "balloon-default"),
    Case("whatif-days-zero", ["policy", "whatif", "none.toml", "--days", "0"], says="--days"),
    # --- the database and its files ----------------------------------------------------
    Case("migrate-db-directory", ["migrate"], env={"DATABASE_PATH": "folder"}, says="DATABASE_PATH"),
    Case("migrate-db-not-sqlite", ["migrate"], env={"DATABASE_PATH": "notes.txt"}, says="not a SQLite", alone=True),
    Case("migrate-db-no-folder", ["migrate"], env={"DATABASE_PATH": "no/such/bot.db"}, says="DATABASE_PATH"),
    Case("migrate-db-locked", ["migrate"], env={"DATABASE_PATH": "locked.db"}, says="locked"),
    Case("migrate-bad-ids", ["migrate"], env={"MANAGER_IDS": "7001,abc"}, says="MANAGER_IDS"),
    Case("backup-to-directory", ["backup", "folder"], says="directory"),
    Case("backup-over-database", ["backup", "bot.db"], says="database"),
    Case("backup-over-foreign-file", ["backup", "notes.txt"], says="--force"),
    Case("backup-no-folder", ["backup", "no/such/copy.db"], says="does not exist"),
    Case("backup-db-locked", ["backup", "copy.db"], env={"DATABASE_PATH": "locked.db"}, says="locked"),
    Case("backup-from-not-sqlite", ["backup", "copy.db"], env={"DATABASE_PATH": "notes.txt"}, says="not a SQLite"),
    Case("migrate-url-nowhere", ["migrate"], env={"DATABASE_URL": "postgresql://bot:pw@127.0.0.1:1/loans"}, says="DATABASE_URL: cannot connect"),
    Case("migrate-url-not-postgres", ["migrate"], env={"DATABASE_URL": "mysql://bot@db/loans"}, says="DATABASE_URL"),
    Case("db-copy-no-to", ["db", "copy"], says="--to"),
    Case("db-copy-to-a-file", ["db", "copy", "--to", "copy.db"], says="--to"),
    Case("db-copy-to-nowhere", ["db", "copy", "--to", "postgresql://bot:pw@127.0.0.1:1/loans"], says="--to: cannot connect"),
    Case("db-copy-from-not-sqlite", ["db", "copy", "--to", "postgresql://bot@127.0.0.1:1/loans"], env={"DATABASE_PATH": "notes.txt"}, says="not a SQLite"),
    Case("export-over-database", ["leads", "export", "--out", "bot.db"], says="database"),
    Case("export-to-directory", ["leads", "export", "--out", "folder"], says="directory"),
    Case("export-over-foreign-file", ["leads", "export", "--out", "notes.txt"], says="--force"),
    Case("export-days-zero", ["leads", "export", "--out", "x.csv", "--days", "0"], says="--days"),
    Case("export-days-text", ["leads", "export", "--out", "x.csv", "--days", "ten"], says="--days"),
    Case("export-no-database", ["leads", "export", "--out", "x.csv"], env={"DATABASE_PATH": "gone.db"}, says="DATABASE_PATH"),
    # --- loans import: one bad row each ----------------------------------------------------
    Case("loans-missing", ["loans", "import", "none.csv"], says="not found"),
    Case("loans-directory", ["loans", "import", "folder"], says="directory"),
    loans("loans-latin1", loan_row().replace("1001", "1001é").encode("latin-1"), "UTF-8"),
    Case("loans-a-png", ["loans", "import", "picture.png"], says="picture.png"),
    loans("loans-empty", "", "header"),
    loans("loans-unknown-column", loan_row().replace("annual_rate", "rate"), "'rate'"),
    loans("loans-no-reference", loan_row().replace("loan_ref,", "").replace("L9,", ""), "loan_ref"),
    loans("loans-principal-1e30", loan_row(principal="1e30"), "principal"),
    loans("loans-principal-10-20", loan_row(principal="1" + "0" * 20), "principal"),
    loans("loans-principal-negative", loan_row(principal="-5"), "principal"),
    loans("loans-principal-zero", loan_row(principal="0"), "principal"),
    loans("loans-principal-nan", loan_row(principal="NaN"), "principal"),
    loans("loans-principal-inf", loan_row(principal="inf"), "principal"),
    loans("loans-principal-empty", loan_row(principal=""), "principal"),
    loans("loans-id-10-25", loan_row(telegram_id="1" + "0" * 25), "telegram_id"),
    loans("loans-rate-99", loan_row(annual_rate="99"), "annual_rate"),
    loans("loans-term-text", loan_row(term_months="twelve"), "term_months"),
    Case("loans-already-booked", ["loans", "import", "booked.csv"], {"booked.csv": loan_row(loan_ref="L1")}, says="loan L1 is already booked", alone=True),
    loans("loans-twice-in-file", loan_row() + loan_row().split("\n")[1] + "\n", "already on line 2"),
    loans("loans-unclosed-quote", loan_row(loan_ref='"L9'), "quote"),
    # --- payments import ---------------------------------------------------------------
    payments("pay-1e30", f"{PAY_HEADER}\nP9,1,2,1e30\n", "amount"),
    payments("pay-nan", f"{PAY_HEADER}\nP9,1,2,NaN\n", "amount"),
    payments("pay-negative", f"{PAY_HEADER}\nP9,1,2,-5\n", "amount"),
    payments("pay-zero", f"{PAY_HEADER}\nP9,1,2,0\n", "amount"),
    payments("pay-no-loan", f"{PAY_HEADER}\nP9,99,1,10\n", "loan_id"),
    payments("pay-no-installment", f"{PAY_HEADER}\nP9,1,999,10\n", "installment"),
    payments("pay-wrong-type", f"{PAY_HEADER}\nP9,1,two,10\n", "n:"),
    payments("pay-already-recorded", f"{PAY_HEADER}\nP1,1,2,10\n", "payment P1 is already recorded"),
    payments("pay-twice-in-file", f"{PAY_HEADER}\nP9,1,2,10\nP9,1,3,10\n", "already on line 2"),
    payments("pay-unclosed-quote", f'{PAY_HEADER}\nP9,1,2,"10\nP8,1,3,10\n', "quote"),
    payments("pay-no-reference", "loan_id,n,amount\n1,2,10\n", "payment_ref"),
    # --- sources -----------------------------------------------------------------------
    Case("sources-bad-bot", ["sources", "add", "Show", "--bot", "bad name!"], says="--bot"),
    Case("sources-short-bot", ["sources", "add", "Show", "--bot", "abot"], says="--bot"),
    Case("sources-not-a-bot", ["sources", "add", "Show", "--bot", "LiWei_2026"], says="--bot"),
    Case("sources-no-bot", ["sources", "add", "Show"], says="--bot"),
    Case("sources-bad-bot-env", ["sources", "add", "Show"], env={"TELEGRAM_BOT_USERNAME": "x y"}, says="TELEGRAM_BOT_USERNAME"),
    Case("sources-empty-name", ["sources", "add", " ", "--bot", "AutoLoanBot"], says="NAME"),
    Case("sources-long-name", ["sources", "add", "x" * 65, "--bot", "AutoLoanBot"], says="NAME"),
    Case("sources-control-name", ["sources", "add", "a\x07b", "--bot", "AutoLoanBot"], says="NAME"),
    Case("sources-bad-slug", ["sources", "add", "New", "--bot", "AutoLoanBot", "--slug", "a b"], says="--slug"),
    Case("sources-long-slug", ["sources", "add", "New", "--bot", "AutoLoanBot", "--slug", "a" * 65], says="--slug"),
    Case("sources-reserved-slug", ["sources", "add", "New", "--bot", "AutoLoanBot", "--slug", "unknown"], says="--slug"),
    Case("sources-taken-slug", ["sources", "add", "New", "--bot", "AutoLoanBot", "--slug", "show"], says="--slug"),
    Case("sources-qr-database", ["sources", "add", "New", "--bot", "AutoLoanBot", "--qr", "bot.db"], says="--qr"),
    Case("sources-qr-directory", ["sources", "add", "New", "--bot", "AutoLoanBot", "--qr", "folder"], says="--qr"),
    Case("sources-qr-foreign-png", ["sources", "add", "New", "--bot", "AutoLoanBot", "--qr", "fake.png"], says="--force"),
    Case("sources-qr-no-folder", ["sources", "add", "New", "--bot", "AutoLoanBot", "--qr", "no/q.png"], says="--qr"),
    Case("sources-list-bad-bot", ["sources", "list", "--bot", "-"], says="--bot"),
    # --- demo, run, start ----------------------------------------------------------------
    Case("demo-script-missing", ["demo", "--script", "none.txt"], says="--script"),
    Case("demo-script-directory", ["demo", "--script", "folder"], says="--script"),
    Case("demo-database-directory", ["demo", "--database", "folder"], says="--database"),
    Case("demo-database-is-live", ["demo", "--database", "bot.db"], says="DATABASE_PATH"),
    Case("demo-database-not-sqlite", ["demo", "--database", "notes.txt", "--tour"], says="not a SQLite"),
    Case("run-no-token", ["run"], says="TELEGRAM_BOT_TOKEN", alone=True),
    Case("run-bad-token", ["run"], env={"TELEGRAM_BOT_TOKEN": "hello"}, says="TELEGRAM_BOT_TOKEN"),
    Case("run-nobody-set", ["run"], env={"TELEGRAM_BOT_TOKEN": "123456:ABCDEFGH"}, says="MANAGER_CHAT_ID, MANAGER_IDS or ADMIN_IDS"),
    Case("run-bad-proxy", ["run"], env={"TELEGRAM_PROXY_URL": "proxy:8080"}, says="TELEGRAM_PROXY_URL"),
    Case("run-bad-port", ["run"], env={"WEBHOOK_PORT": "70000"}, says="WEBHOOK_PORT"),
    Case("run-db-not-sqlite", ["run"], env={"TELEGRAM_BOT_TOKEN": "123456:ABCDEFGH", "ADMIN_IDS": "1", "MANAGER_CHAT_ID": "-100", "DATABASE_PATH": "notes.txt"}, says="not a SQLite"),
    Case("loans-db-not-sqlite", ["loans", "import", "loan.csv"], env={"DATABASE_PATH": "notes.txt"}, says="not a SQLite"),
    Case("sources-db-not-sqlite", ["sources", "add", "New", "--bot", "AutoLoanBot"], env={"DATABASE_PATH": "picture.png"}, says="not a SQLite"),
    Case("start-bad-zone", ["start"], env={"TIMEZONE": "Mars/Base"}, says="TIMEZONE"),
    Case("no-such-command", ["fly"], says="fly"),
]  # fmt: skip

COMMON_FILES: dict[str, str | bytes] = {
    "notes.txt": "my own notes, not a database\n",
    "fake.png": "not a picture\n",
    "picture.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe",
}


def case_env(folder: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    return {**base_env(), "HOME": str(folder), "DATABASE_PATH": "bot.db", **(env or {})}


def run_bot(argv: list[str], folder: Path, env: dict[str, str] | None = None):
    return subprocess.run(
        [sys.executable, "-m", "bot", *argv],
        cwd=folder,
        env=case_env(folder, env),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
    )


def run_group(cases: list[Case], folder: Path) -> list[tuple[int, str]]:
    """(exit status, stderr) of each case, run one after another in one interpreter."""
    if len(cases) == 1 and cases[0].alone:
        done = run_bot(cases[0].argv, folder, cases[0].env)
        return [(done.returncode, done.stderr)]
    request = [{"argv": c.argv, "env": case_env(folder, c.env)} for c in cases]
    done = subprocess.run(
        [sys.executable, "-m", "tests.cli.case_runner"],
        cwd=folder,
        env=case_env(folder),
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return [(r["status"], r["stderr"]) for r in json.loads(done.stdout)]


def dump(database: Path) -> list[str]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        return list(conn.iterdump())


def listing(folder: Path) -> set[str]:
    """Every file and folder under `folder`; SQLite's own -wal/-shm come and go with readers."""
    return {
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if not p.name.endswith(("-wal", "-shm", "-journal"))
    }


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with a booked loan L1 (loan 1), its payment P1 and the source `show`."""
    home = tmp_path_factory.mktemp("cli")
    (home / "folder").mkdir()
    (home / "loan.csv").write_text(loan_row(loan_ref="L1"), encoding="utf-8")
    (home / "pay.csv").write_text(f"{PAY_HEADER}\nP1,1,1,100\n", encoding="utf-8")
    setup = [
        Case("migrate", ["migrate"]),
        Case("loan", ["loans", "import", "loan.csv"]),
        Case("payment", ["payments", "import", "pay.csv"]),
        Case("source", ["sources", "add", "Show", "--bot", "AutoLoanBot", "--slug", "show"]),
    ]
    assert run_group(setup, home) == [(0, "")] * len(setup)
    for name, content in COMMON_FILES.items():
        path = home / name
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    for case in CASES:
        for name, content in case.files.items():
            path = home / name
            path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    return home


@pytest.fixture(scope="module")
def locked_database(folder: Path) -> Iterator[None]:
    """`locked.db`, held by another program (an exclusive lock) while the cases run."""
    holder = sqlite3.connect(folder / "locked.db", isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    yield
    holder.execute("ROLLBACK")
    holder.close()


def test_every_command_refuses_bad_input_with_one_line(folder: Path, locked_database) -> None:
    database = folder / "bot.db"
    before, files = dump(database), listing(folder)
    lock = threading.Lock()
    failures: list[str] = []

    def check(case: Case, status: int, err: str) -> list[str]:
        lines = err.strip().splitlines()
        problems = []
        if status != 2:
            problems.append(f"exit {status}")
        if len(lines) != 1:
            problems.append(f"{len(lines)} lines on stderr")
        if "Traceback" in err:
            problems.append("a traceback")
        if case.says not in err:
            problems.append(f"does not say {case.says!r}")
        return problems

    def attempt(group: list[Case]) -> None:
        try:
            results = run_group(group, folder)
        except subprocess.TimeoutExpired:
            results = [(-1, f"still running after {TIMEOUT} s")] * len(group)
        with lock:
            changed = dump(database) != before
            extra = listing(folder) - files
            for case, (status, err) in zip(group, results, strict=True):
                problems = check(case, status, err)
                if changed:
                    problems.append("the database changed (in this group)")
                if extra:
                    problems.append(f"left {sorted(extra)} (in this group)")
                if problems:
                    failures.append(f"{case.name}: {', '.join(problems)}: {err.strip()[:300]!r}")

    grouped = [c for c in CASES if not c.alone]
    groups = [[c] for c in CASES if c.alone]
    groups += [grouped[i : i + GROUP] for i in range(0, len(grouped), GROUP)]
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(attempt, groups))
    assert not failures, "\n".join(sorted(failures))


def test_output_into_a_closed_pipe_ends_quietly(folder: Path) -> None:
    """`python -m bot quote ... | head -1`: the reader leaves; no BrokenPipeError."""
    for argv in ([*QUOTE, "--json"], ["policy", "check", str(DEFAULT_POLICY_PATH)]):
        child = subprocess.Popen(
            [sys.executable, "-m", "bot", *argv],
            cwd=folder,
            env=case_env(folder),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        child.stdout.close()  # the reader is gone before a byte is written
        _, err = child.communicate(timeout=TIMEOUT)
        assert "Traceback" not in err and "BrokenPipe" not in err
    # The good path still prints: the same command into an open pipe.
    done = run_bot(QUOTE, folder)
    assert done.returncode == 0 and done.stdout.startswith("Loan 100000.00")
