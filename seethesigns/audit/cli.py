"""`seethesigns audit verify`: check the audit log's chain from the command line."""

from __future__ import annotations

import time
from pathlib import Path

import click

from seethesigns.audit.chain import check_known_head, verify
from seethesigns.cli_options import CONFIG_OPTION, settings_or_exit
from seethesigns.db import engine_for, make_session_factory
from seethesigns.settings import Settings


def audit_key_or_exit(settings: Settings) -> bytes:
    """The [audit] key, or a clear error naming the command that adds one."""
    if settings.audit_key is None:
        raise click.ClickException(
            "the configuration has no [audit] key: run `seethesigns migrate` to add one"
        )
    return settings.audit_key


@click.group()
def audit() -> None:
    """The staff audit log."""


HEX = "0123456789abcdef"


def _known_head(
    _context: click.Context, _parameter: click.Parameter, value: str | None
) -> tuple[int, str] | None:
    """ID:HASH as printed by an earlier verify."""
    if value is None:
        return None
    number, _, digest = value.partition(":")
    if not number.isdigit() or len(digest) != 64 or not all(c in HEX for c in digest.lower()):
        raise click.BadParameter("give ID:HASH as an earlier `audit verify` printed them")
    return int(number), digest


@audit.command("verify")
@click.option(
    "--known-head",
    callback=_known_head,
    metavar="ID:HASH",
    help="The newest entry an earlier verify printed: fail if it was removed or changed since.",
)
@CONFIG_OPTION
def verify_command(known_head: tuple[int, str] | None, config_path: Path | None) -> None:
    """Check every entry's HMAC and link; exit 1 naming the first bad entry."""
    settings = settings_or_exit(config_path)
    key = audit_key_or_exit(settings)
    engine = engine_for(settings)
    started = time.monotonic()
    with make_session_factory(engine)() as db:
        verdict = verify(db, key)
        problem = check_known_head(db, verdict, *known_head) if known_head else None
    engine.dispose()
    if not verdict.intact:
        click.echo(f"Audit log BROKEN at entry {verdict.bad_id}: {verdict.reason}.", err=True)
        raise SystemExit(1)
    if problem is not None:
        click.echo(f"Audit log BROKEN: {problem}.", err=True)
        raise SystemExit(1)
    if verdict.checked == 0:
        click.echo("Audit log intact: it is empty.")
        return
    click.echo(
        f"Audit log intact: {verdict.checked} entries, {verdict.first_id} to "
        f"{verdict.head_id}, checked in {time.monotonic() - started:.1f} s. "
        f"Newest entry: {verdict.head_id}:{verdict.head_hash}"
    )
