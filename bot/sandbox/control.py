"""The control API: what a test in another process may ask of a running sandbox server.

Served by `SandboxServer` under `/_sandbox/...` as JSON; `SandboxClient` is the caller's
side (standard library only, synchronous, for end-to-end tests and scripts).
"""

from __future__ import annotations

import base64
import json
import urllib.request
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.sandbox.errors import SandboxScriptError
from bot.sandbox.transcript import Transcript

if TYPE_CHECKING:
    from bot.sandbox.core import SandboxCore
    from bot.sandbox.users import ChatView

ACTIONS = {
    "send",
    "command",
    "share_contact",
    "press",
    "press_number",
    "send_photo",
    "send_document",
}


async def handle_control(core: SandboxCore, name: str, body: dict[str, Any]) -> dict[str, Any]:
    """Answer `/_sandbox/<name>`; raises SandboxScriptError (→ 400) for a bad request."""
    if name == "user":
        core.user(
            int(body["id"]),
            str(body["name"]),
            body.get("language", "en"),
            username=body.get("username"),
            started=bool(body.get("started")),
        )
        return {"ok": True}
    if name == "act":
        view = _view(core, body)
        action = str(body["action"])
        if action not in ACTIONS:
            raise SandboxScriptError(f"unknown action {action!r}")
        args = list(body.get("args", []))
        if action in ("send_photo", "send_document"):
            args[0] = base64.b64decode(args[0])
        result = getattr(view, action)(*args)
        return {"ok": True, "result": result if isinstance(result, str) else None}
    if name == "chat":
        view = _view(core, body)
        return {
            "ok": True,
            "messages": [
                {
                    "message_id": m.message_id,
                    "from_bot": m.from_bot,
                    "text": m.text,
                    "buttons": [b["text"] for row in m.inline_keyboard for b in row],
                }
                for m in view.screen()
            ],
            "buttons": [b.text for b in view.buttons()],
        }
    if name == "transcript":
        return {"ok": True, "text": Transcript(core).render()}
    if name == "clock":
        if "advance_seconds" in body:
            core.clock.advance(timedelta(seconds=float(body["advance_seconds"])))
        return {"ok": True, "now": core.clock.now().isoformat()}
    if name == "wait_quiet":
        await core.wait_quiet(float(body.get("quiet", 0.2)), float(body.get("within", 10)))
        return {"ok": True}
    if name == "block":
        core.faults.block(int(body["user_id"]))
        return {"ok": True}
    if name == "audit":
        # [caller, method, at, updates] from entry `since` on (see core.ApiCall).
        return {"ok": True, "calls": [list(c) for c in core.audit[int(body.get("since", 0)) :]]}
    if name == "state":
        return {"ok": True, "calls": len(core.calls), "pending_updates": len(core.pending_updates)}
    raise SandboxScriptError(f"unknown control endpoint {name!r}")


def _view(core: SandboxCore, body: dict[str, Any]) -> ChatView:
    user_id = int(body["user_id"])
    if user_id not in core.users:
        raise SandboxScriptError(f"no user {user_id}; create it with /_sandbox/user first")
    user = core.user(user_id, core.users[user_id].first_name)
    return user.group if body.get("chat") == "group" else user


class SandboxClient:
    """Drive a sandbox server from another process: `SandboxClient("http://127.0.0.1:PORT")`."""

    def __init__(self, root_url: str) -> None:
        self.root_url = root_url.rstrip("/")

    def call(self, endpoint: str, **body: Any) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.root_url}/_sandbox/{endpoint}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def user(self, id: int, name: str, language: str = "en") -> None:
        self.call("user", id=id, name=name, language=language)

    def act(self, user_id: int, action: str, *args: Any, chat: str = "private") -> Any:
        return self.call("act", user_id=user_id, action=action, args=list(args), chat=chat)

    def chat(self, user_id: int, chat: str = "private") -> dict[str, Any]:
        return self.call("chat", user_id=user_id, chat=chat)

    def wait_quiet(self, quiet: float = 0.2, within: float = 10) -> None:
        self.call("wait_quiet", quiet=quiet, within=within)

    def audit(self, since: int = 0) -> list[tuple[str, str, float, int]]:
        """The Bot API calls answered so far, from the `since`-th on: (caller, method,
        monotonic time, updates handed over)."""
        return [tuple(call) for call in self.call("audit", since=since)["calls"]]  # type: ignore[misc]

    def transcript(self) -> str:
        return self.call("transcript")["text"]
