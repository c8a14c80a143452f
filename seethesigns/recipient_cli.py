"""`seethesigns recipient add | list | retire`: the keys new items are encrypted to (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from seethesigns.audit.actions import RECIPIENT_ADD, RECIPIENT_RETIRE, SYSTEM_USERNAME
from seethesigns.audit.chain import Actor, Target, append
from seethesigns.cli_options import CONFIG_OPTION, settings_or_exit
from seethesigns.db import engine_for, make_session_factory
from seethesigns.encryption import EncryptionError, GpgService
from seethesigns.recipients import (
    RecipientError,
    add_recipient,
    all_recipients,
    ensure_configured,
    grouped,
    retire_recipient,
)
from seethesigns.settings import Settings
from seethesigns.teams.membership import TeamError, all_teams, front_door, team_named


def gpg_of(settings: Settings) -> GpgService:
    """The server's GnuPG service, as the apps build it."""
    return GpgService(settings.gnupg_homedir, settings.submission_key_fingerprint, settings.tmp_dir)


def audit_cli(settings: Settings, action: str, target: Target, **detail: object) -> None:
    """Put a change made on the server's command line in the audit log too."""
    if settings.audit_key is None:  # a configuration from before the log: migrate adds one
        return
    factory = make_session_factory(engine_for(settings))
    append(
        factory,
        settings.audit_key,
        Actor(None, SYSTEM_USERNAME),
        action,
        target,
        {**detail, "via": "command line"},
    )


def _audit(settings: Settings, action: str, fingerprint: str, name: str, **detail: object) -> None:
    audit_cli(settings, action, Target("recipient", fingerprint), name=name, **detail)


@click.group()
def recipient() -> None:
    """The public keys every new report and reply is encrypted to."""


@recipient.command("add")
@click.argument("name")
@click.argument(
    "key_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="KEYFILE"
)
@click.option("--team", "team_name", help="The team the key belongs to (default: the front door).")
@CONFIG_OPTION
def add(name: str, key_file: Path, team_name: str | None, config_path: Path | None) -> None:
    """Encrypt every new report and reply of a team's cases to the PUBLIC key in KEYFILE too."""
    settings = settings_or_exit(config_path)
    armored = key_file.read_text("utf-8", errors="replace")
    with make_session_factory(engine_for(settings))() as db:
        try:
            team = team_named(db, team_name) if team_name else front_door(db)
            added = add_recipient(db, gpg_of(settings), name, armored, team.id)
        except TeamError as exc:
            raise click.ClickException(str(exc)) from None
        except (EncryptionError, RecipientError) as exc:
            raise click.ClickException(f"{key_file}: {exc}") from None
        _audit(settings, RECIPIENT_ADD, added.fingerprint, added.name, team=team.name)
        click.echo(f"Added recipient {added.name!r} for {team.name}.")
        click.echo(f"Fingerprint: {grouped(added.fingerprint)}")
    click.echo("Check this fingerprint against the one shown on the device holding the key.")


@recipient.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead.")
@CONFIG_OPTION
def list_command(as_json: bool, config_path: Path | None) -> None:
    """Every recipient, active and retired."""
    settings = settings_or_exit(config_path)
    with make_session_factory(engine_for(settings))() as db:
        ensure_configured(db, gpg_of(settings))
        rows = all_recipients(db)
        teams = {team.id: team.name for team in all_teams(db)}
        if as_json:
            click.echo(
                json.dumps(
                    [
                        {
                            "name": row.name,
                            "fingerprint": row.fingerprint,
                            "added_at": row.added_at.isoformat(),
                            "retired_at": row.retired_at.isoformat() if row.retired_at else None,
                            "active": row.retired_at is None,
                            "team": teams.get(row.team_id or -1),
                        }
                        for row in rows
                    ]
                )
            )
            return
        for row in rows:
            state = f"retired {row.retired_at:%Y-%m-%d}" if row.retired_at else "active"
            team = teams.get(row.team_id or -1, "")
            click.echo(f"{grouped(row.fingerprint)}  {state:<18}  {row.name}  ({team})")


@recipient.command("retire")
@click.argument("fingerprint")
@CONFIG_OPTION
def retire(fingerprint: str, config_path: Path | None) -> None:
    """Stop encrypting new items to FINGERPRINT; what it could open stays readable."""
    settings = settings_or_exit(config_path)
    with make_session_factory(engine_for(settings))() as db:
        try:
            retired = retire_recipient(db, gpg_of(settings), fingerprint)
        except RecipientError as exc:
            raise click.ClickException(str(exc)) from None
        _audit(settings, RECIPIENT_RETIRE, retired.fingerprint, retired.name)
        click.echo(f"Retired {retired.name!r} ({grouped(retired.fingerprint)}).")
