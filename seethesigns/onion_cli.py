"""`seethesigns onion up | status | add-client | revoke-client`, and `serve --onion`."""

from __future__ import annotations

import codecs
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

import click

from seethesigns.cli_options import (
    CONFIG_OPTION,
    ConfigurationError,
    chosen_control,
    control_options,
    settings_or_exit,
)
from seethesigns.onion import (
    JOURNALIST,
    SOURCE,
    OnionError,
    OnionKeys,
    OnionPublisher,
    OnionService,
    onion_target,
    publishes_clients,
    services_from_settings,
)
from seethesigns.onion_balance import (
    backend_torrc,
    frontend_key,
    onionbalance_command,
    supervise,
    write_backend_config,
    write_onionbalance_files,
)
from seethesigns.onion_status import onion_status
from seethesigns.settings import Settings

# `serve --onion` publishes from a thread in gunicorn's master, which then forks workers. A
# fork while that thread is half-way through importing a module leaves the worker with a
# half-made module for good. The thread's first connection to tor encodes "127.0.0.1" with
# the idna codec, imported lazily on first use; a worker forked in that moment could never
# encode a Host header again, and answered every request with a 500 (seen in CI). Loading the
# codec here, before any thread exists, leaves nothing lazy that both sides need.
codecs.lookup("idna")

WAIT_OPTION = click.option(
    "--wait",
    type=float,
    default=180.0,
    show_default=True,
    help="Seconds to wait for a running `onion up` to republish the staff service.",
)


def _log_to_stderr() -> None:
    """The publisher's messages (addresses, reconnections; never keys) go to stderr."""
    logger = logging.getLogger("seethesigns.onion")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s onion: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


@click.group()
def onion() -> None:
    """Publish and check the Tor onion services (see tor/README.md)."""


@onion.command()
@control_options
@CONFIG_OPTION
def up(control_port: int | None, control_socket: Path | None, config_path: Path | None) -> None:
    """Publish both onion services and keep them published until stopped."""
    settings = settings_or_exit(config_path, chosen_control(control_port, control_socket))
    _log_to_stderr()
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    publisher = OnionPublisher(settings.tor, services_from_settings(settings.tor))
    try:
        publisher.run(stop)
    except OnionError as exc:
        raise click.ClickException(str(exc)) from None


@onion.command()
@click.option(
    "--timeout",
    type=float,
    default=30.0,
    show_default=True,
    help="Seconds to wait for an HSDir to serve each descriptor.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead.")
@control_options
@CONFIG_OPTION
def status(
    timeout: float,
    as_json: bool,
    control_port: int | None,
    control_socket: Path | None,
    config_path: Path | None,
) -> None:
    """Check both onion services and their local targets.

    Exit 0 if both are published and both targets answer HTTP, 1 if not, 2 if the check
    itself cannot run (options, configuration, key files, tor refusing us).
    """
    control = chosen_control(control_port, control_socket)
    settings = settings_or_exit(config_path, control, error=ConfigurationError)
    try:
        report = onion_status(settings.tor, timeout)
    except OnionError as exc:
        raise ConfigurationError(str(exc)) from None
    click.echo(json.dumps(report.as_json(), indent=2) if as_json else report.as_text())
    if not report.ok:
        sys.exit(1)


def _await_staff_republication(keys: OnionKeys, wait: float) -> None:
    """Report whether the running publisher has republished the staff service."""
    wanted = keys.clients()
    deadline = time.monotonic() + wait
    while True:
        published = keys.publication()
        if JOURNALIST not in published:
            click.echo(
                "No `seethesigns onion up` is running: this applies when it starts.", err=True
            )
            return
        if publishes_clients(published[JOURNALIST], wanted):
            click.echo("The staff onion service was republished with the new keys.", err=True)
            return
        if time.monotonic() > deadline:
            raise click.ClickException(
                f"the running `seethesigns onion up` did not republish within {wait:.0f} s; "
                "check its log"
            )
        time.sleep(0.5)


@onion.command("add-client")
@click.argument("name")
@click.option(
    "--public-key",
    metavar="KEY",
    help="The device's own x25519 public key (base32, as tor writes it); nothing is printed "
    "that the device does not already have. Without it, a keypair is made here.",
)
@WAIT_OPTION
@CONFIG_OPTION
def add_client(name: str, public_key: str | None, wait: float, config_path: Path | None) -> None:
    """Authorise a staff device: by its public key, or with a new key printed only this once."""
    keys = OnionKeys(settings_or_exit(config_path).tor.keys_dir)
    try:
        if public_key is None:
            line = keys.add_client(name)
            address = line.split(":", 1)[0]
            click.echo(
                f"On {name}, save this line as {address}.auth_private in Tor Browser's "
                "onion-auth folder (or paste the key after the last ':' when Tor Browser asks):"
            )
            click.echo(line)
        else:
            keys.add_client_key(name, public_key)
            address = keys.service_key(JOURNALIST).address
            click.echo(f"Authorised {name} for http://{address}.onion.")
    except OnionError as exc:
        raise click.ClickException(str(exc)) from None
    _await_staff_republication(keys, wait)


@onion.command("list-clients")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of {name, public_key}.")
@CONFIG_OPTION
def list_clients(as_json: bool, config_path: Path | None) -> None:
    """List the authorised staff devices and their public keys (private keys are never kept)."""
    keys = OnionKeys(settings_or_exit(config_path).tor.keys_dir)
    try:
        clients = sorted(keys.clients().items())
    except OnionError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        found = [{"name": name, "public_key": key} for name, key in clients]
        click.echo(json.dumps(found, indent=2))
    else:
        for name, key in clients:
            click.echo(f"{name}  {key}")


@onion.command("revoke-client")
@click.argument("name")
@WAIT_OPTION
@CONFIG_OPTION
def revoke_client(name: str, wait: float, config_path: Path | None) -> None:
    """Remove a staff device's key; the staff service is republished without it."""
    keys = OnionKeys(settings_or_exit(config_path).tor.keys_dir)
    try:
        keys.revoke_client(name)
    except OnionError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Revoked {name}.")
    _await_staff_republication(keys, wait)


@onion.group()
def balance() -> None:
    """One source onion address over several servers, with Onionbalance (docs/operators.md)."""


@balance.command("address")
@CONFIG_OPTION
def balance_address(config_path: Path | None) -> None:
    """Print the frontend onion address (its key is made on first use, in [tor] keys_dir)."""
    keys = OnionKeys(settings_or_exit(config_path).tor.keys_dir)
    try:
        click.echo(f"{frontend_key(keys).address}.onion")
    except OnionError as exc:
        raise click.ClickException(str(exc)) from None


@balance.command("backend")
@click.argument("service_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--frontend", required=True, metavar="ADDRESS", help="The frontend onion address.")
@click.option("--target", help="Where port 80 leads (default: 127.0.0.1:[tor] source_port).")
@CONFIG_OPTION
def balance_backend(
    service_dir: Path, frontend: str, target: str | None, config_path: Path | None
) -> None:
    """Make a backend's HiddenServiceDir with its ob_config; print the torrc lines for it."""
    settings = settings_or_exit(config_path)
    try:
        write_backend_config(service_dir.absolute(), frontend)
    except OnionError as exc:
        raise click.ClickException(str(exc)) from None
    lines = backend_torrc(
        service_dir.absolute(), target or onion_target(settings.tor, SOURCE), settings.tor
    )
    click.echo("\n".join(lines))


@balance.command("up")
@click.argument("backends", nargs=-1, required=True)
@click.option(
    "--testnet",
    is_flag=True,
    help="A private test network with 20-second voting (onionbalance's chutney timing).",
)
@control_options
@CONFIG_OPTION
def balance_up(
    backends: tuple[str, ...],
    testnet: bool,
    control_port: int | None,
    control_socket: Path | None,
    config_path: Path | None,
) -> None:
    """Publish the frontend address over BACKENDS (onion addresses) until stopped."""
    settings = settings_or_exit(config_path, chosen_control(control_port, control_socket))
    _log_to_stderr()
    keys = OnionKeys(settings.tor.keys_dir)
    try:
        config = write_onionbalance_files(keys, backends)
        command = onionbalance_command(config, settings.tor, testnet=testnet)
        address = frontend_key(keys).address
    except OnionError as exc:
        raise click.ClickException(str(exc)) from None
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    logging.getLogger("seethesigns.onion").info(
        "frontend http://%s.onion over %d backend(s)", address, len(backends)
    )
    supervise(command, stop)


def serve_onion_hooks(settings: Settings, interface: str, target: str) -> dict[str, Any]:
    """gunicorn hooks that publish the interface's onion service from the master process.

    The publisher starts once gunicorn listens and stops with it (closing the control
    connection removes the service). A fatal error (cookie refused, tor too old) stops the
    server rather than leave it running without the onion service that was asked for.
    """
    publisher = OnionPublisher(settings.tor, [OnionService(interface, target)])
    stop = threading.Event()

    def publish_forever() -> None:
        try:
            publisher.run(stop)
        except OnionError as exc:
            logging.getLogger("seethesigns.onion").error("%s; stopping the server", exc)
            os.kill(os.getpid(), signal.SIGTERM)

    def when_ready(server: Any) -> None:
        _log_to_stderr()
        threading.Thread(target=publish_forever, name="onion", daemon=True).start()

    def on_exit(server: Any) -> None:
        stop.set()

    return {"when_ready": when_ready, "on_exit": on_exit}
