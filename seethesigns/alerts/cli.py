"""`seethesigns alerts run`: the alert sender, a small process of its own (issue 13)."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import click

from seethesigns.alerts.mailer import Mailer
from seethesigns.alerts.sender import run as run_sender
from seethesigns.cli_options import CONFIG_OPTION, settings_or_exit
from seethesigns.db import engine_for, make_session_factory
from seethesigns.settings import SettingsError, load_settings


@click.group()
def alerts() -> None:
    """Content-free alerts to staff by email."""


@alerts.command()
@CONFIG_OPTION
def configured(config_path: Path | None) -> None:
    """Exit 0 if the configuration has [alerts], 1 if not (the unit's ExecCondition).

    A configuration that cannot be read exits 255, which systemd counts as a failure rather
    than a reason to skip: a typo in [alerts] must not silence alerts without a word.
    """
    try:
        settings = load_settings(config_path)
    except SettingsError as exc:
        click.echo(str(exc), err=True)
        sys.exit(255)
    if settings.alerts is None:
        sys.exit(1)


@alerts.command()
@CONFIG_OPTION
def run(config_path: Path | None) -> None:
    """Send alerts as they fall due until SIGTERM or SIGINT; needs [alerts] in the config."""
    settings = settings_or_exit(config_path)
    if settings.alerts is None:
        raise click.ClickException("settings: section [alerts] is missing: no relay to send to")
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(levelname)s %(message)s")
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    engine = engine_for(settings)
    try:
        run_sender(make_session_factory(engine), Mailer(settings.alerts), settings.alerts, stop)
    finally:
        engine.dispose()
