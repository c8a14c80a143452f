"""The operator's command line: `seethesigns init | add-staff | serve | backup | restore`."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import click
import pyotp
import segno
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from seethesigns.alerts.cli import alerts
from seethesigns.audit.cli import audit, audit_key_or_exit
from seethesigns.audit.retention import audit_retention_days, prune
from seethesigns.backup_cli import backup, restore_command
from seethesigns.cli_options import (
    CONFIG_OPTION,
    chosen_control,
    control_options,
    settings_or_exit,
)
from seethesigns.config_file import add_audit_key, render_config, write_private
from seethesigns.db import engine_for, make_session_factory, upgrade_database
from seethesigns.encryption import EncryptionError, GpgService
from seethesigns.front_cli import front
from seethesigns.instance_settings import instance_config
from seethesigns.models.base import utcnow
from seethesigns.onion import onion_target
from seethesigns.onion_cli import onion, serve_onion_hooks
from seethesigns.recipient_cli import gpg_of, recipient
from seethesigns.recipients import ensure_configured, grouped
from seethesigns.retention import purge_expired, purge_silent_sources, sweep_partials
from seethesigns.settings import Settings
from seethesigns.staff_accounts import StaffAccounts, StaffError
from seethesigns.storage import Store
from seethesigns.teams.cli import team


@contextmanager
def private_files() -> Iterator[None]:
    """Files made meanwhile (database, keyring, stored reports) are readable only by this user.

    Under the usual umask 022 they were 0644: only their 0700 folders kept other users out.
    The umask is put back after, as tests run these commands inside one process.
    """
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def _database_url(
    _context: click.Context, _param: click.Parameter, value: str | None
) -> str | None:
    """Refuse a --database-url that is not a database URL, before anything is written."""
    if value is None:
        return None
    try:
        backend = make_url(value).get_backend_name()
    except ArgumentError:
        raise click.BadParameter("not a database URL") from None
    if backend not in ("sqlite", "postgresql"):
        raise click.BadParameter(f"SQLite or PostgreSQL, not {backend}")
    return value


@click.group()
def main() -> None:
    """See the Signs: an anonymous drop box for young people."""


@main.command()
@click.option(
    "--data-dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the database, keyring and encrypted reports will live.",
)
@click.option(
    "--submission-key",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The PUBLIC submission key, armored (its private half stays offline).",
)
@click.option(
    "--database-url",
    callback=_database_url,
    help="The database, if not an SQLite file in --data-dir: an empty PostgreSQL database, "
    "e.g. postgresql+psycopg://seethesigns@/seethesigns?host=/run/postgresql",
)
@control_options
@CONFIG_OPTION
def init(
    data_dir: Path,
    submission_key: Path,
    database_url: str | None,
    control_port: int | None,
    control_socket: Path | None,
    config_path: Path | None,
) -> None:
    """Create an instance: configuration with fresh secrets, keyring, and database."""
    control = chosen_control(control_port, control_socket)
    data_dir = data_dir.resolve()
    config_path = (config_path or data_dir / "seethesigns.toml").resolve()
    if config_path.exists():
        raise click.ClickException(f"{config_path} already exists; refusing to overwrite it")
    armored = submission_key.read_text("utf-8", errors="replace")
    with private_files():
        for sub in ("", "gnupg", "store", "tmp"):
            (data_dir / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            gpg = GpgService(data_dir / "gnupg", "", data_dir / "tmp")
            fingerprint = gpg.import_submission_key(armored)
        except EncryptionError as exc:
            raise click.ClickException(f"{submission_key}: {exc}") from None
        text = render_config(data_dir, fingerprint, control=control, database_url=database_url)
        write_private(config_path, text)
        settings = settings_or_exit(config_path)
        upgrade_database(settings.database_url)
        _first_recipient(settings)
    click.echo(f"Configuration: {config_path}")
    click.echo(f"Submission key fingerprint: {grouped(fingerprint)}")
    click.echo("Check this fingerprint against the one shown on the offline workstation.")


def _first_recipient(settings: Settings) -> None:
    """The configured submission key becomes the first recipient (issue 14)."""
    with make_session_factory(engine_for(settings))() as db:
        ensure_configured(db, gpg_of(settings))


@main.command()
@CONFIG_OPTION
def migrate(config_path: Path | None) -> None:
    """Bring the database schema up to date (run after every upgrade)."""
    settings = settings_or_exit(config_path)
    with private_files():
        upgrade_database(settings.database_url)
        _first_recipient(settings)
    click.echo("Database schema is up to date.")
    if settings.audit_key is None and config_path is not None:
        # A configuration from before the audit log (issue 13): give it the chain's key.
        add_audit_key(config_path, config_path.read_text("utf-8"))
        click.echo(f"Added an [audit] key to {config_path}.")


@main.command()
@CONFIG_OPTION
def purge(config_path: Path | None) -> None:
    """Delete expired reports, sources that sent nothing in a day, and interrupted writes."""
    settings = settings_or_exit(config_path)
    store = Store(settings.store_dir)
    factory = make_session_factory(engine_for(settings))
    with factory() as db:
        days = instance_config(db).retention_days
        purged = purge_expired(db, store, days, utcnow()) if days else None
        silent = purge_silent_sources(db, store, utcnow())
        audit_days = audit_retention_days(db)
    pruned = prune(factory, audit_key_or_exit(settings), audit_days, utcnow())
    partials = sweep_partials(store, time.time())
    if purged is None:
        click.echo("Retention is off: no reports were deleted.")
    else:
        click.echo(
            f"Deleted {purged.sources} sources, {purged.submissions} submissions and "
            f"{purged.replies} replies older than {days} days."
        )
    click.echo(f"Deleted {silent} sources that sent nothing in a day.")
    click.echo(f"Removed {partials} leftover partial files.")
    click.echo(f"Removed {pruned.removed} audit log entries older than {audit_days} days.")


# You hand these secrets over, so you know them: the account is pending until its owner
# replaces both at their first login (issue 13).
FIRST_LOGIN_NOTE = (
    "The account is pending: at their first login on the staff website, they must choose a "
    "new passphrase and confirm a new two-factor device before it works (the API refuses it "
    "until then)."
)


@main.command("add-staff")
@click.argument("username")
@click.option("--admin", is_flag=True, help="Make the account an administrator.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead.")
@CONFIG_OPTION
def add_staff(username: str, admin: bool, as_json: bool, config_path: Path | None) -> None:
    """Create a staff account with a server-generated passphrase and TOTP secret."""
    settings = settings_or_exit(config_path)
    accounts = StaffAccounts(settings.argon2, settings.login)
    with make_session_factory(engine_for(settings))() as db:
        try:
            created = accounts.create(db, username, is_admin=admin)
        except StaffError as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(
            json.dumps(
                {
                    "username": created.staff.username,
                    "passphrase": created.passphrase,
                    "totp_secret": created.totp_secret,
                    "status": created.staff.status,
                    "first_login": FIRST_LOGIN_NOTE,
                }
            )
        )
        return
    uri = pyotp.TOTP(created.totp_secret).provisioning_uri(
        name=created.staff.username, issuer_name="See the Signs"
    )
    click.echo(f"Created {'admin' if admin else 'staff member'} {created.staff.username!r}.")
    click.echo(f"Passphrase:  {created.passphrase}")
    click.echo(f"TOTP secret: {grouped(created.totp_secret)}")
    click.echo("Scan this with an authenticator app, then keep the passphrase safe:")
    segno.make(uri, error="m").terminal(out=sys.stdout, compact=True)
    click.echo(FIRST_LOGIN_NOTE)


@main.command()
@click.argument("interface", type=click.Choice(["source", "journalist"]))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Default: [serve] INTERFACE_port, else [tor] INTERFACE_port (where its onion points).",
)
@click.option("--workers", type=int, default=2, show_default=True)
@click.option("--threads", type=int, default=8, show_default=True)
@click.option(
    "--unix-socket",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Listen on this unix socket, for the nginx front, instead of --host and --port.",
)
@click.option("--onion", is_flag=True, help="Also publish this interface's onion service.")
@control_options
@CONFIG_OPTION
def serve(
    interface: str,
    host: str,
    port: int | None,
    workers: int,
    threads: int,
    unix_socket: Path | None,
    onion: bool,
    control_port: int | None,
    control_socket: Path | None,
    config_path: Path | None,
) -> None:
    """Serve one interface with gunicorn (with --onion, on Tor too: see tor/README.md)."""
    from seethesigns.server import GunicornServer, gunicorn_options

    settings = settings_or_exit(config_path, chosen_control(control_port, control_socket))
    if interface == "source":
        from source_interface import create_app
    else:
        from journalist_interface import create_app
    if settings.database_pool_size is None:
        # One PostgreSQL connection per request thread of each worker (SQLite ignores it).
        settings = replace(settings, database_pool_size=threads)
    port = port or settings.serve_port(interface)
    options = gunicorn_options(host, port, workers, threads)
    if unix_socket is not None:
        options["bind"] = f"unix:{unix_socket}"
    if onion:
        # Behind a front (nginx: [serve] ports, or a unix socket), the onion service points at
        # the front, on the [tor] port; otherwise at gunicorn.
        target = (
            onion_target(settings.tor, interface)
            if settings.behind_front(interface) or unix_socket is not None
            else f"{host}:{port}"
        )
        options.update(serve_onion_hooks(settings, interface, target))
    with private_files():  # for the workers too: submissions, replies, SQLite's -wal and -shm
        GunicornServer(lambda: create_app(settings), options).run()


main.add_command(onion)
main.add_command(alerts)
main.add_command(front)
main.add_command(backup)
main.add_command(restore_command)
main.add_command(audit)
main.add_command(recipient)
main.add_command(team)
