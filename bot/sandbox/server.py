"""The HTTP front door: the sandbox's Bot API on 127.0.0.1, in Telegram's wire format.

    async with SandboxServer(core) as server:      # port 0: a free port
        bot = Bot("123:TEST", base_url=server.base_url, base_file_url=server.file_base_url)

Serves `/bot<token>/<method>` (JSON, form and multipart bodies, GET or POST),
`/file/bot<token>/<path>` downloads, and the control API under `/_sandbox/<name>`. Either
Bot API path may start with a name, `/<caller>/bot<token>/<method>`: several bot
processes given base URLs `.../p1/bot`, `.../p2/bot` are told apart in the core's audit
of who called what and when (`/_sandbox/audit`).
Standalone, for a bot running as a subprocess:

    python -m bot.sandbox.server --port 8081
    TELEGRAM_API_BASE_URL=http://127.0.0.1:8081/bot python -m bot run

A call the fault plan times out is dropped without an answer (the client sees the
connection close, or its own read timeout). A long poll whose client hangs up is
abandoned: the updates stay for the next getUpdates, as on Telegram.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from typing import Any

from tornado.httpserver import HTTPServer
from tornado.httputil import HTTPFile, parse_body_arguments
from tornado.netutil import bind_sockets
from tornado.web import Application, HTTPError, RequestHandler

from bot.sandbox.control import handle_control
from bot.sandbox.core import SandboxCore, UploadedFiles
from bot.sandbox.errors import SandboxScriptError, SandboxTimeout
from services.clock import ManualClock

# A caller's name before /bot<token>/ (not "file", which is the downloads' own path).
CALLER = r"(?!file/)[A-Za-z0-9_-]+"


class _SandboxHandler(RequestHandler):
    def initialize(self, core: SandboxCore) -> None:  # tornado's per-request set-up hook
        self.core = core

    def check_xsrf_cookie(self) -> None:
        return None

    def _send_json(self, status: int, body: dict[str, Any]) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))


class BotApiHandler(_SandboxHandler):
    _long_poll: asyncio.Future[tuple[int, dict[str, Any]]] | None = None
    _hung_up = False

    async def get(self, token: str, method: str, caller: str = "") -> None:
        await self.post(token, method, caller)

    async def post(self, token: str, method: str, caller: str = "") -> None:
        params, files = self._read_body()
        call = asyncio.ensure_future(
            self.core.call(method, params, files, token=token, caller=caller)
        )
        if method.lower() == "getupdates":
            self._long_poll = call
        try:
            status, body = await call
        except SandboxTimeout:
            self.request.connection.close()  # type: ignore[union-attr]
            self._finished = True
            return
        except asyncio.CancelledError:
            if not self._hung_up:
                raise
            self._finished = True  # nobody is left to answer
            return
        self._send_json(status, body)

    def on_connection_close(self) -> None:
        # A bot process killed (or a poll it cancelled) mid long poll: were the poll left
        # waiting, it would take the next updates for a reader that is gone.
        self._hung_up = True
        if self._long_poll is not None and not self._long_poll.done():
            self._long_poll.cancel()
        super().on_connection_close()

    def _read_body(self) -> tuple[dict[str, Any], UploadedFiles]:
        params: dict[str, Any] = {
            k: v[-1].decode() for k, v in self.request.query_arguments.items()
        }
        content_type = self.request.headers.get("Content-Type", "")
        if content_type.startswith("application/json"):
            if self.request.body:
                params.update(json.loads(self.request.body))
            return params, {}
        arguments: dict[str, list[bytes]] = {}
        uploaded: dict[str, list[HTTPFile]] = {}
        parse_body_arguments(content_type, self.request.body, arguments, uploaded)
        params.update({name: values[-1].decode() for name, values in arguments.items()})
        files: UploadedFiles = {
            name: (items[-1].filename, items[-1].body, items[-1].content_type)
            for name, items in uploaded.items()
        }
        return params, files


class FileHandler(_SandboxHandler):
    def get(self, token: str, path: str, caller: str = "") -> None:
        content = self.core.download(path)
        if content is None:
            self._send_json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        self.set_header("Content-Type", "application/octet-stream")
        self.finish(content)


class ControlHandler(_SandboxHandler):
    async def get(self, name: str) -> None:
        await self.post(name)

    async def post(self, name: str) -> None:
        body = json.loads(self.request.body or b"{}")
        body.update({k: v[-1].decode() for k, v in self.request.query_arguments.items()})
        try:
            answer = await handle_control(self.core, name, body)
        except (SandboxScriptError, KeyError, ValueError) as error:
            self._send_json(400, {"ok": False, "description": str(error)})
            return
        except TimeoutError as error:
            self._send_json(504, {"ok": False, "description": str(error)})
            return
        self._send_json(200, answer)


class NotFoundHandler(_SandboxHandler):
    def prepare(self) -> None:
        raise HTTPError(404)


class SandboxServer:
    """A real HTTP server on 127.0.0.1 in front of a `SandboxCore`."""

    def __init__(self, core: SandboxCore, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.core = core
        self.host = host
        self.port = port
        self._server: HTTPServer | None = None

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/bot"

    @property
    def file_base_url(self) -> str:
        return f"{self.root_url}/file/bot"

    async def start(self) -> SandboxServer:
        routes = [
            (r"/file/bot(?P<token>[^/]+)/(?P<path>.+)", FileHandler, {"core": self.core}),
            (r"/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)/?", BotApiHandler, {"core": self.core}),
            (
                rf"/(?P<caller>{CALLER})/file/bot(?P<token>[^/]+)/(?P<path>.+)",
                FileHandler,
                {"core": self.core},
            ),
            (
                rf"/(?P<caller>{CALLER})/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)/?",
                BotApiHandler,
                {"core": self.core},
            ),
            (r"/_sandbox/([a-z_]+)", ControlHandler, {"core": self.core}),
        ]
        application = Application(
            routes, default_handler_class=NotFoundHandler, default_handler_args={"core": self.core}
        )
        sockets = bind_sockets(self.port, self.host)
        self.port = sockets[0].getsockname()[1]
        self._server = HTTPServer(application, max_body_size=60 * 1024 * 1024)
        self._server.add_sockets(sockets)
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            await self.core.end_long_polls()
            await self._server.close_all_connections()
            self._server = None

    async def __aenter__(self) -> SandboxServer:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


async def serve(args: argparse.Namespace) -> None:
    core = SandboxCore(clock=ManualClock(), manager_chat_id=args.manager_chat_id, token=args.token)
    server = await SandboxServer(core, host=args.host, port=args.port).start()
    print(f"sandbox Bot API listening on {server.base_url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.sandbox.server", description="The sandbox Bot API over HTTP."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument("--manager-chat-id", type=int, default=-1001000000001)
    parser.add_argument("--token", default=None, help="accept only this token (default: any)")
    asyncio.run(serve(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
