"""Running an interface under gunicorn, with no access log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


class GunicornServer(BaseApplication):
    """Gunicorn with its options set here, loading the app in each worker after fork."""

    def __init__(self, factory: Callable[[], Flask], options: dict[str, Any]) -> None:
        self._factory = factory
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

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
