"""Errors the sandbox answers with, worded exactly as Telegram words them."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A Bot API failure: becomes Telegram's `{"ok": false, ...}` envelope."""

    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def envelope(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


def forbidden(reason: str) -> ApiError:
    return ApiError(403, f"Forbidden: {reason}")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


class SandboxTimeout(Exception):
    """A call the fault plan decided never answers; each door turns it into its own timeout."""

    def __init__(self, executed: bool) -> None:
        super().__init__("sandbox: the call timed out")
        self.executed = executed


class SandboxScriptError(AssertionError):
    """A test script asked for something the chat does not show (e.g. a missing button)."""


MESSAGE_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
