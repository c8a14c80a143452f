"""Running an interface under gunicorn: no access log, no client in the log, no name."""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger
from gunicorn.http import wsgi

from seethesigns.web.allocator import keep_upload_buffers

# gunicorn's messages that carry what a client is or sent, and what is written instead.
# Its warning on a malformed request, "Invalid request from ip=<address>: <error>", is the
# one place it names a client's address; the error may quote what the client sent, so only
# its kind (the text before any quote, colon or parenthesis) is kept.
_INVALID_REQUEST = re.compile(r"Invalid request from ip=.*?: (?P<kind>[^:'\"(]*)", re.DOTALL)
# "Error handling request %s %s", with the method and path of the request.
_ERROR_HANDLING = re.compile(r"Error handling request\b.*", re.DOTALL)
# Whatever else a future gunicorn might write: anything that reads as an IP address.
_IPV4 = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])")
_IPV6 = re.compile(r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,8}(?:%[\w.]+)?")
REDACTED = "[address]"


def without_client_details(message: str) -> str:
    """A gunicorn log message with no client address in it, nor what the client sent."""
    if found := _INVALID_REQUEST.match(message):
        message = f"Invalid request refused: {found.group('kind').strip()}"
    elif _ERROR_HANDLING.match(message):
        message = "Error handling request"
    message = _IPV4.sub(REDACTED, message)
    return _IPV6.sub(_redact_ipv6, message)


def _redact_ipv6(found: re.Match[str]) -> str:
    text = found.group(0)
    address = text.split("%")[0]
    for candidate in (address, address.removesuffix(":")):  # "ip=::1: ..." ends in a colon
        with suppress(ValueError):
            ipaddress.IPv6Address(candidate)
            return REDACTED
    return text


class _ClientDetailFilter(logging.Filter):
    """Rewrites each record of gunicorn's error log without client details."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = without_client_details(record.getMessage()), None
        return True


class NoClientLogger(Logger):
    """gunicorn's logger, never writing a client's address or what it sent.

    The docs promise that no request metadata is logged, whatever stands in front (Tor's
    onion service and nginx connect from loopback; anything else would be a real address).
    """

    _filter = _ClientDetailFilter()

    def setup(self, cfg: Any) -> None:
        """gunicorn's setup, then the filter on its error log (it runs again on reload)."""
        super().setup(cfg)
        self.error_log.addFilter(self._filter)  # a no-op when already added

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        """Never: an access log records addresses, paths and user agents."""


class AppResponse(wsgi.Response):
    """gunicorn's HTTP/1 response, naming no software, closing when the app says so.

    gunicorn sends `Server: gunicorn` with every response, with no setting to stop it; it
    tells a scanner what to try, and nothing to anyone else.

    gunicorn drops `Connection` from what an app sends (a hop-by-hop header). But after
    refusing a body it will not read, the app knows the connection cannot carry another
    request: its `Connection: close` is sent, and the socket is shut at once. Otherwise
    gunicorn's lingering close waits up to 2 s, on the thread that accepts connections, for
    a client that may never send or close: 20 idle ones stalled the site for 40 s.
    """

    def default_headers(self) -> list[str]:
        lines: list[str] = super().default_headers()
        return [line for line in lines if not line.lower().startswith("server:")]

    def process_headers(self, headers: list[tuple[str, str]]) -> None:
        super().process_headers(headers)
        for name, value in headers:
            if name.lower() == "connection" and value.strip().lower() == "close":
                self.force_close()
                self._shut_after_sending = True

    def close(self) -> None:
        super().close()
        if getattr(self, "_shut_after_sending", False):
            with suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)


class GunicornServer(BaseApplication):
    """Gunicorn with its options set here, loading the app in each worker after fork."""

    def __init__(self, factory: Callable[[], Flask], options: dict[str, Any]) -> None:
        self._factory = factory
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)
        # gunicorn has no setting for its response class; its workers look it up here.
        wsgi.Response = AppResponse

    def load(self) -> Flask:
        keep_upload_buffers()  # in each worker, after the fork
        return self._factory()


def gunicorn_options(host: str, port: int, workers: int, threads: int) -> dict[str, Any]:
    """Options for serving one interface.

    The access log stays off and the error log at "warning", through NoClientLogger: gunicorn's
    access log records client addresses and user agents, and its warning about a malformed
    request names the client's address.
    """
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        # gthread workers heartbeat while a slow Tor upload is streaming, so this does not
        # cut off long uploads; it only reaps a hung worker.
        "timeout": 120,
        "graceful_timeout": 30,
        "keepalive": 5,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "logger_class": NoClientLogger,
        "capture_output": False,
        "proc_name": "seethesigns",
        "preload_app": False,
    }
