"""The offline demo: the whole bot against the sandbox, in the terminal, no token needed.

You are a car buyer. Bot messages print with their buttons numbered; type text, or a
button's number to press it. A number is typed as text when it can be the answer to the
open question (an amount, an age, "send 0") or is larger than the buttons shown, and
`=TEXT` always types TEXT, e.g. `=1` to answer "1". A message the bot asked you to reply
to (/calc) gets your next line as its reply. Demo commands:

    /reply TEXT             reply to the bot's latest message with TEXT
    /as buyer NAME [LANG]   be a (new or known) buyer; LANG e.g. en, zh-hans
    /as manager NAME [LANG] be a loan manager (sees the managers' group, prefixed [managers]);
                            LANG defaults to DEFAULT_LOCALE, the group's language
    /group TEXT             as a manager, write TEXT in the managers' group
    /contact [PHONE]        share your phone number
    /wait 3d                move the clock (d, h, m) and run the scheduled work
    /quit                   leave

`--script FILE` reads the same lines from a file (blank lines and `# comments` skipped) and
prints the transcript; `--tour` plays bot/sandbox/tour.py.
"""

from __future__ import annotations

import re
import sys
import tempfile
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO

from bot.sandbox.errors import SandboxScriptError
from bot.sandbox.transcript import Transcript
from bot.sandbox.users import ChatView, ScriptedUser
from bot.sandbox.world import MANAGER_IDS, SandboxWorld
from handlers.prequalify import states

FIRST_BUYER_ID = 1001
_DURATION = re.compile(r"(\d+)\s*([dhm])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}
_LANGUAGE = re.compile(r"(en|zh)(-[a-z]+)?")  # a Telegram client language: en, zh-hans


class DemoInputError(Exception):
    """A line the demo cannot act on (shown to the person, fatal in a script)."""


def parse_duration(text: str) -> timedelta:
    """`3d`, `2h`, `90m`, `1d12h` as a timedelta."""
    parts = _DURATION.findall(text.replace(" ", ""))
    if not parts or "".join(n + u for n, u in parts) != text.replace(" ", ""):
        raise DemoInputError(f"/wait needs a duration like 3d, 2h or 30m, not {text!r}")
    return sum((timedelta(**{_UNITS[u]: int(n)}) for n, u in parts), timedelta())


@dataclass
class Personas:
    """Who the person at the keyboard is playing, and who they have played before."""

    world: SandboxWorld
    buyers: dict[str, ScriptedUser] = field(default_factory=dict)
    managers: dict[str, ScriptedUser] = field(default_factory=dict)
    current: ScriptedUser | None = None
    is_manager: bool = False

    def be_buyer(self, name: str, language: str = "en") -> ScriptedUser:
        if name not in self.buyers:
            user_id = FIRST_BUYER_ID + len(self.buyers)
            self.buyers[name] = self.world.user(user_id, name, language)
        self.current, self.is_manager = self.buyers[name], False
        return self.current

    def be_manager(self, name: str, language: str | None = None) -> ScriptedUser:
        if name not in self.managers:
            if len(self.managers) >= len(MANAGER_IDS):
                raise DemoInputError(f"only {len(MANAGER_IDS)} managers are configured")
            # A manager's Telegram speaks the company's language unless told otherwise.
            language = language or self.world.settings.default_locale
            user_id = MANAGER_IDS[len(self.managers)]
            self.managers[name] = self.world.core.user(user_id, name, language)
            self.managers[name].group  # noqa: B018 - joins the managers' group
        self.current, self.is_manager = self.managers[name], True
        return self.current

    def keyboard_chat(self) -> ChatView:
        """Where a typed number presses: a manager's newest keyboard, private or group."""
        user = self.current
        assert user is not None
        if not self.is_manager:
            return user
        group = user.group
        newest = {view: _newest_keyboard(view) for view in (user, group)}
        return group if newest[group] > newest[user] else user


def _newest_keyboard(view: ChatView) -> int:
    for message in reversed(view.screen()):
        if message.inline_keyboard:
            return message.data.get("edit_date") or message.data["date"]
    return -1


class Demo:
    def __init__(self, world: SandboxWorld, out: TextIO) -> None:
        self.world = world
        self.out = out
        self.personas = Personas(world)
        self.transcript = Transcript(world.core)

    async def play(self, lines: Iterable[str], *, strict: bool) -> int:
        """Act on each line and print what happens; `strict` stops at the first bad line."""
        self.personas.be_buyer("Li")
        for line in lines:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line in ("/quit", "/exit"):
                break
            try:
                await self.act(line)
            except (DemoInputError, SandboxScriptError) as error:
                self.say(f"! {error}")
                if strict:
                    return 1
            self.flush()
        return 0

    async def act(self, line: str) -> None:
        user = self.personas.current
        assert user is not None
        word, _, rest = line.partition(" ")
        if word == "/as":
            self._switch(rest.split())
        elif word == "/wait":
            await self.world.travel(parse_duration(rest))
            self.say(f"… {rest} later: {self.world.clock.now():%Y-%m-%d %H:%M} UTC")
        elif word == "/contact":
            user.share_contact(rest or None)
        elif word == "/group":
            if not self.personas.is_manager:
                raise DemoInputError("only managers write in the managers' group")
            user.group.send(rest)
        elif word == "/reply":
            user.reply(rest)
        elif line.startswith("="):
            user.send(line[1:])
        elif self._presses(line):
            self.personas.keyboard_chat().press_number(int(line))
        elif self._reply_asked():
            user.reply(line)
        else:
            user.send(line)
        await self.world.settle()

    def _presses(self, line: str) -> bool:
        """A number presses a button only when it cannot be the answer being asked for."""
        if not line.isdigit() or not 1 <= int(line) <= len(self.personas.keyboard_chat().buttons()):
            return False
        if self.personas.is_manager:
            return True
        if self._reply_asked():
            return False
        user = self.personas.current
        assert user is not None
        pq = self.world.app.user_data.get(user.id, {}).get("pq", {})
        question = states.BY_KEY.get(pq.get("step", ""))
        typed = question is not None and question.kind not in ("choice", "term")
        return not typed or "pending" in pq  # ✓/✗ under a doubtful answer wait for a tap

    def _reply_asked(self) -> bool:
        """The buyer's latest bot message asks for a reply (ForceReply), as /calc's does."""
        user = self.personas.current
        if user is None or self.personas.is_manager or not user.bot_messages():
            return False
        return bool((user.last_message().markup or {}).get("force_reply"))

    def _switch(self, words: list[str]) -> None:
        if len(words) < 2 or words[0] not in ("buyer", "manager"):
            raise DemoInputError("use /as buyer NAME [LANG] or /as manager NAME [LANG]")
        if words[0] == "manager":
            names, language = words[1:], None
            if len(names) > 1 and _LANGUAGE.fullmatch(names[-1].lower()):
                names, language = names[:-1], names[-1]
            user = self.personas.be_manager(" ".join(names), language)
        else:
            language = words[2] if len(words) > 2 else "en"
            user = self.personas.be_buyer(words[1], language)
        self.flush()
        self.say(f"— you are {words[0]} {user.user.first_name} —")

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def flush(self) -> None:
        new = self.transcript.new_lines()
        if new:
            self.say(new)


def _interactive_lines(demo: Demo) -> Iterator[str]:
    usage = (__doc__ or "").split("\n\n")[1:3]
    print("\n\n".join(usage), flush=True)
    while True:
        user = demo.personas.current
        prompt = f"{user.user.first_name}> " if user else "> "
        try:
            yield input(prompt)
        except EOFError:
            return


async def run_demo(
    lines: Iterable[str] | None,
    *,
    database_path: Path | str | None,
    out: TextIO | None = None,
    settings: dict[str, Any] | None = None,
    default_locale: str | None = None,
) -> int:
    """Play `lines` (a script) or, when None, read from the terminal; `settings` override
    the sandbox's (the policy, time zone and locale the person configured). The managers'
    group and managers speak the default locale (DEFAULT_LOCALE), as the company's bot
    would. `database_path` is a SQLite file or a postgresql:// URL; None, a temporary
    SQLite file."""
    warnings.filterwarnings("ignore", message=".*per_message.*")
    overrides = dict(settings or {})
    if default_locale:
        overrides["default_locale"] = default_locale
    with tempfile.TemporaryDirectory(prefix="autoloan-demo-") as scratch:
        path = database_path or Path(scratch) / "demo.sqlite3"
        async with SandboxWorld.create(path, **overrides) as world:
            # sys.stdout when called, not when this module was imported (tests swap it).
            demo = Demo(world, out or sys.stdout)
            if lines is None:
                return await demo.play(_interactive_lines(demo), strict=False)
            return await demo.play(lines, strict=True)
