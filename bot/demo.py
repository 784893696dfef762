"""The offline demo: the whole bot against the sandbox, in the terminal, no token needed.

You are a car buyer. Bot messages print with their buttons numbered; type text, or a
button's number to press it (a number larger than the buttons shown is typed as text, and
`=TEXT` always types TEXT, e.g. `=1` to answer "1"). Demo commands:

    /as buyer NAME [LANG]   be a (new or known) buyer; LANG e.g. en, zh-hans
    /as manager NAME        be a loan manager (sees the managers' group, prefixed [managers])
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

FIRST_BUYER_ID = 1001
_DURATION = re.compile(r"(\d+)\s*([dhm])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


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

    def be_manager(self, name: str) -> ScriptedUser:
        if name not in self.managers:
            if len(self.managers) >= len(MANAGER_IDS):
                raise DemoInputError(f"only {len(MANAGER_IDS)} managers are configured")
            self.managers[name] = self.world.manager(len(self.managers), name)
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
        elif line.startswith("="):
            user.send(line[1:])
        elif line.isdigit() and int(line) <= len(self.personas.keyboard_chat().buttons()):
            self.personas.keyboard_chat().press_number(int(line))
        else:
            user.send(line)
        await self.world.settle()

    def _switch(self, words: list[str]) -> None:
        if len(words) < 2 or words[0] not in ("buyer", "manager"):
            raise DemoInputError("use /as buyer NAME [LANG] or /as manager NAME")
        if words[0] == "manager":
            user = self.personas.be_manager(" ".join(words[1:]))
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
    database_path: Path | None,
    out: TextIO = sys.stdout,
    settings: dict[str, Any] | None = None,
) -> int:
    """Play `lines` (a script) or, when None, read from the terminal; `settings` override
    the sandbox's (the policy, time zone and locale the person configured)."""
    warnings.filterwarnings("ignore", message=".*per_message.*")
    with tempfile.TemporaryDirectory(prefix="autoloan-demo-") as scratch:
        path = database_path or Path(scratch) / "demo.sqlite3"
        async with SandboxWorld.create(path, **(settings or {})) as world:
            demo = Demo(world, out)
            if lines is None:
                return await demo.play(_interactive_lines(demo), strict=False)
            return await demo.play(lines, strict=True)
