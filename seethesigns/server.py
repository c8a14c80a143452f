"""Running an interface under gunicorn, with no access log."""

from __future__ import annotations

import socket
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.http import wsgi


class AppResponse(wsgi.Response):
    """gunicorn's HTTP/1 response, closing the connection when the app's response says so.

    gunicorn drops `Connection` from what an app sends (a hop-by-hop header). But after
    refusing a body it will not read, the app knows the connection cannot carry another
    request: its `Connection: close` is sent, and the socket is shut at once. Otherwise
    gunicorn's lingering close waits up to 2 s, on the thread that accepts connections, for
    a client that may never send or close: 20 idle ones stalled the site for 40 s.
    """

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
        return self._factory()


def gunicorn_options(host: str, port: int, workers: int, threads: int) -> dict[str, Any]:
    """Options for serving one interface.

    The access log stays off and the error log at "warning": gunicorn's access log records
    client addresses and user agents, and its debug messages name client addresses.
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
        "capture_output": False,
        "proc_name": "seethesigns",
        "preload_app": False,
    }
