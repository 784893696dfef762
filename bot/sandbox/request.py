"""The in-process front door: a PTB `BaseRequest` that answers from a `SandboxCore`.

    core = SandboxCore()
    app = (
        ApplicationBuilder().token("123:TEST")
        .request(SandboxRequest(core)).get_updates_request(SandboxRequest(core))
        .build()
    )

Parameters go through `RequestData.json_parameters`, the same strings the HTTP door gets
as a form body, so both doors feed the core identical input.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

from bot.sandbox.errors import SandboxTimeout

if TYPE_CHECKING:
    from bot.sandbox.core import SandboxCore, UploadedFiles


class SandboxRequest(BaseRequest):
    """Answers Bot API calls and file downloads from the sandbox, without sockets."""

    def __init__(self, core: SandboxCore, read_timeout: float | None = 5.0) -> None:
        self.core = core
        self._read_timeout = read_timeout

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout=BaseRequest.DEFAULT_NONE,
        write_timeout=BaseRequest.DEFAULT_NONE,
        connect_timeout=BaseRequest.DEFAULT_NONE,
        pool_timeout=BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        path = unquote(urlsplit(url).path)
        token, api_method, file_path = split_api_path(path)
        if file_path is not None:
            content = self.core.download(file_path)
            if content is None:
                return 404, json.dumps(
                    {"ok": False, "error_code": 404, "description": "Not Found: file not found"}
                ).encode()
            return 200, content
        params = request_data.json_parameters if request_data else {}
        files = _files_of(request_data)
        try:
            status, body = await self.core.call(api_method or "", params, files, token=token)
        except SandboxTimeout as timeout:
            raise TimedOut("Timed out (sandbox fault)") from timeout
        return status, json.dumps(body).encode()


def split_api_path(path: str) -> tuple[str | None, str | None, str | None]:
    """(token, method, file path) from `/bot<token>/<method>` or `/file/bot<token>/<path>`."""
    parts = path.strip("/").split("/")
    for index, part in enumerate(parts[:-1]):
        if part == "file" and parts[index + 1].startswith("bot") and index + 2 < len(parts):
            return parts[index + 1][3:], None, "/".join(parts[index + 2 :])
        if part.startswith("bot"):
            return part[3:], parts[index + 1], None
    return None, None, None


def _files_of(request_data: RequestData | None) -> UploadedFiles:
    if request_data is None or not request_data.contains_files:
        return {}
    files: UploadedFiles = {}
    for name, (file_name, content, mime_type) in request_data.multipart_data.items():
        data = content if isinstance(content, bytes) else content.read()
        files[name] = (file_name, data, mime_type)
    return files
