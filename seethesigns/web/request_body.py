"""How much of a request body is read, decided before anything reads it.

Werkzeug parses a whole form before the view runs, and before the CSRF check, which reads
the token from that form; its MAX_FORM_MEMORY_SIZE does not cover urlencoded bodies at all.
So every request may carry only a small body, and a view that needs more (an upload, a long
reply) says so with `takes_body`; the limit is set from the matched route, in a hook that
runs before the CSRF check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, TypeVar

from flask import current_app, request
from werkzeug.exceptions import (
    BadRequest,
    ClientDisconnected,
    HTTPException,
    RequestEntityTooLarge,
)

from seethesigns.settings import Settings

# Every form without a file or a long text fits in this many bytes: an unauthenticated body
# is read into memory before any check, so a larger one is refused unread (DoS).
SMALL_BODY_BYTES = 256 * 1024
# multipart/form-data parts (fields and files) a request may have unless its view says more.
SMALL_FORM_PARTS = 16
# The bytes of an upload request that are not its files: the form's text fields and each
# part's headers. The nginx front lets the same through (seethesigns/front/nginx.py).
UPLOAD_FRAMING_BYTES = 4 * 1024 * 1024
MULTIPART = "multipart/form-data"
URLENCODED = "application/x-www-form-urlencoded"
_ATTRIBUTE = "seethesigns_body_limit"
# A body declared more than this many times what its route takes is no upload that went a
# little over: draining it would hold a thread for as long as the client likes to wait.
DRAIN_FACTOR = 2
DRAIN_CHUNK = 1024 * 1024
F = TypeVar("F", bound=Callable[..., Any])


class UnreadableBody(BadRequest):
    """The server could not read the request body: a broken chunked encoding, for one."""

    description = "The request body could not be read."


class ServerInput:
    """The server's request body stream, where any failure to read is the client's fault.

    gunicorn raises its own errors (InvalidChunkSize for `Transfer-Encoding: chunked` with a
    body of `zz`) from inside the form parser; they reached the catch-all handler as a 500,
    with a traceback in the log. Here they become a 400.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def read(self, size: int | None = -1) -> bytes:
        """Read up to size bytes."""
        try:
            return self._stream.read(-1 if size is None else size)
        except HTTPException:
            raise
        except Exception as exc:
            raise UnreadableBody() from exc

    def readline(self, size: int | None = -1) -> bytes:
        """Read one line."""
        try:
            return self._stream.readline(-1 if size is None else size)
        except HTTPException:
            raise
        except Exception as exc:
            raise UnreadableBody() from exc


def readable_bodies(wsgi_app: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a WSGI app so that what it reads of a body comes through ServerInput."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if "wsgi.input" in environ:
            environ["wsgi.input"] = ServerInput(environ["wsgi.input"])
        return wsgi_app(environ, start_response)

    return app


@dataclass(frozen=True)
class BodyLimit:
    """What one route's request body may hold, when it comes in the route's encoding."""

    max_bytes: int
    mimetype: str = MULTIPART
    max_parts: int = SMALL_FORM_PARTS
    max_field_bytes: int = SMALL_BODY_BYTES


def takes_body(limit: BodyLimit | Callable[[Settings], BodyLimit]) -> Callable[[F], F]:
    """Let a view's requests carry the body that limit (or limit(settings)) allows."""

    def mark(view: F) -> F:
        setattr(view, _ATTRIBUTE, limit)
        return view

    return mark


def apply_body_limit(settings: Settings) -> None:
    """Before anything reads the body: raise this request's limits if its view allows more.

    A route's larger limit applies only to the encoding it declares, so an upload route
    still takes a urlencoded body only as small as any other.
    """
    view = current_app.view_functions.get(request.endpoint or "")
    declared = getattr(view, _ATTRIBUTE, None)
    if declared is None:
        return
    limit: BodyLimit = declared if isinstance(declared, BodyLimit) else declared(settings)
    if request.mimetype != limit.mimetype:
        return
    request.max_content_length = limit.max_bytes
    request.max_form_parts = limit.max_parts
    request.max_form_memory_size = limit.max_field_bytes


def body_left_unread(exc: HTTPException) -> bool:
    """Whether, answering exc, the rest of the body stays unread, so the connection is spent."""
    if isinstance(exc, RequestEntityTooLarge):
        return not drain_refused_body()
    return isinstance(exc, (UnreadableBody, ClientDisconnected))


def drain_refused_body() -> bool:
    """Read and discard the rest of a body refused as too large, when that is sane.

    Replying to an oversized upload before its body is read makes the server close a socket
    with unread data, which the browser sees as a reset connection rather than our page
    (SecureDrop #6194). So a body of up to DRAIN_FACTOR times the limit is read to its end;
    one declared larger, or of no declared length, is not. Returns whether the body was
    read in full, that is whether the connection can carry another request.
    """
    declared = request.content_length
    limit = request.max_content_length
    if declared is None or limit is None or declared > DRAIN_FACTOR * limit:
        return False
    stream = request.environ.get("wsgi.input")
    if stream is None:
        return False
    remaining = declared
    try:
        while remaining > 0:
            chunk = stream.read(min(DRAIN_CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
    except (OSError, HTTPException):  # the client went away, or sent a broken body
        return False
    return True
