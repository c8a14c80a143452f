"""`seethesigns backup` and `seethesigns restore`: scriptable, with --json and exit codes.

Exit codes: 0 done; 1 failed; 2 usage or configuration; 3 key refused, wrong key or
passphrase; 4 disk full; 5 archive damaged, tampered with or unsafe; 6 target exists;
7 unsupported (a dump for the other database engine, or a backup from a newer version).
Nothing is asked on the terminal except a missing passphrase, and only when stdin is one.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from seethesigns.backups.backup import BackupSummary, make_backup
from seethesigns.backups.errors import BackupError, PassphraseNeeded
from seethesigns.backups.restore import CheckSummary, RestoreRequest, RestoreSummary, restore
from seethesigns.backups.restore import verify as verify_archive
from seethesigns.cli_options import CONFIG_OPTION, ConfigurationError, settings_or_exit
from seethesigns.settings import CONFIG_ENV

Done = TypeVar("Done")
EXISTING_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
JSON_OPTION = click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object (also on failure)."
)
PASSPHRASE_OPTION = click.option(
    "--passphrase-file",
    type=EXISTING_FILE,
    help="File whose first line is the backup secret key's passphrase.",
)


def _fail(error: BackupError, as_json: bool) -> NoReturn:
    """Report error (on stderr, and as JSON on stdout if asked) and exit with its code."""
    if as_json:
        click.echo(json.dumps({"ok": False, "error": str(error), "exit_code": error.exit_code}))
    click.echo(f"Error: {error}", err=True)
    sys.exit(error.exit_code)


def _read_secret_key(path: Path) -> str:
    return path.read_text("utf-8", errors="replace")


def _passphrase(path: Path | None) -> str | None:
    if path is None:
        return None
    lines = path.read_text("utf-8").splitlines()
    return lines[0] if lines and lines[0] else None


def _run(action: Callable[[], Done], as_json: bool) -> Done:
    """Run action, turning a BackupError into its exit code (and JSON, if asked)."""
    try:
        return action()
    except BackupError as exc:
        _fail(exc, as_json)


def _decrypting(
    action: Callable[[str | None], Done], passphrase_file: Path | None, as_json: bool
) -> Done:
    """Run action with the passphrase from the file; if the key wants one and none was given,
    ask for it, but only on a terminal (scripts get PassphraseNeeded's exit code instead)."""
    passphrase = _passphrase(passphrase_file)
    try:
        return action(passphrase)
    except PassphraseNeeded as exc:
        if passphrase is not None or not sys.stdin.isatty():
            _fail(exc, as_json)
    except BackupError as exc:
        _fail(exc, as_json)
    # On stderr: stdout stays one JSON object with --json.
    asked = click.prompt("Passphrase of the backup secret key", hide_input=True, err=True)
    return _run(lambda: action(asked), as_json)


def _report(summary: dict[str, Any], lines: list[str], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"ok": True, **summary}, sort_keys=True))
    else:
        click.echo("\n".join(lines))


def _backup_report(done: BackupSummary, as_json: bool) -> None:
    summary = {
        "output": str(done.output),
        "bytes": done.size,
        "sha256": done.sha256,
        "backup_key": done.key_fingerprint,
        "format": done.header.format,
        "app_version": done.header.app_version,
        "alembic_revision": done.header.alembic_revision,
        "created": done.header.created,
        "files": done.files,
        "store_files": done.store_files,
        "data_bytes": done.data_bytes,
        "skipped": done.skipped,
        "seconds": round(done.seconds, 3),
    }
    lines = [
        f"Backup written to {done.output} ({done.size} bytes, sha256 {done.sha256}).",
        f"Encrypted to the backup key {done.key_fingerprint}; the server cannot read it.",
        f"{done.files} files ({done.store_files} in the store), database schema "
        f"{done.header.alembic_revision}.",
    ]
    if done.skipped:
        lines.append(f"Warning: {done.skipped} unexpected entries in the store were left out.")
    _report(summary, lines, as_json)


def _check_report(done: CheckSummary, as_json: bool) -> None:
    header = done.contents.header
    summary = {
        "format": header.format,
        "app_version": header.app_version,
        "alembic_revision": header.alembic_revision,
        "created": header.created,
        "files": len(done.contents.manifest.files),
        "data_bytes": done.contents.data_bytes,
        "restorable": done.restorable,
        "seconds": round(done.seconds, 3),
    }
    lines = [
        f"The archive is intact: {summary['files']} files match its manifest.",
        f"Made {header.created} by See the Signs {header.app_version}, "
        f"database schema {header.alembic_revision}.",
    ]
    if not done.restorable:
        lines.append("This version cannot restore it: its database schema is newer.")
    _report(summary, lines, as_json)


@click.command()
@CONFIG_OPTION
@click.option("--backup-key", type=EXISTING_FILE, help="The PUBLIC backup key (or [backup]).")
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), help="The archive to write."
)
@click.option("--verify", "archive", type=EXISTING_FILE, help="Check this archive instead.")
@click.option("--secret-key", type=EXISTING_FILE, help="With --verify: the backup SECRET key.")
@PASSPHRASE_OPTION
@JSON_OPTION
def backup(
    config_path: Path | None,
    backup_key: Path | None,
    output: Path | None,
    archive: Path | None,
    secret_key: Path | None,
    passphrase_file: Path | None,
    as_json: bool,
) -> None:
    """Write one encrypted archive of the instance (or check one with --verify)."""
    if archive is not None:
        if output or backup_key or secret_key is None:
            raise click.UsageError("--verify takes --secret-key, and no --output or --backup-key")
        key = _read_secret_key(secret_key)
        checked = _decrypting(
            lambda phrase: verify_archive(archive, key, phrase), passphrase_file, as_json
        )
        _check_report(checked, as_json)
        return
    if output is None:
        raise click.UsageError("give --output FILE (or --verify FILE to check an archive)")
    if config_path is None:
        raise click.UsageError(f"give --config or set {CONFIG_ENV}")
    settings = settings_or_exit(config_path, error=ConfigurationError)
    key_file = backup_key or settings.backup_public_key_file
    if key_file is None:
        raise click.UsageError("give --backup-key, or set [backup] public_key_file")
    made = _run(lambda: make_backup(settings, config_path, key_file, output.absolute()), as_json)
    _backup_report(made, as_json)


@click.command("restore")
@click.option("--archive", required=True, type=EXISTING_FILE, help="The backup archive.")
@click.option("--secret-key", required=True, type=EXISTING_FILE, help="The backup SECRET key.")
@PASSPHRASE_OPTION
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=CONFIG_ENV,
    help="Where to write the configuration (default: where the backup says it was).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Restore the data here instead (the configuration is rewritten to match).",
)
@click.option(
    "--database-url",
    help="Restore the database into this one instead (the configuration is rewritten to "
    "match); a PostgreSQL backup needs a PostgreSQL database, made empty for it.",
)
@click.option("--force", is_flag=True, help="Replace an existing configuration and data.")
@JSON_OPTION
def restore_command(
    archive: Path,
    secret_key: Path,
    passphrase_file: Path | None,
    config_path: Path | None,
    data_dir: Path | None,
    database_url: str | None,
    force: bool,
    as_json: bool,
) -> None:
    """Restore an instance from a backup archive on a fresh server (stop the services first)."""
    key = _read_secret_key(secret_key)

    def attempt(phrase: str | None) -> RestoreSummary:
        request = RestoreRequest(archive, key, phrase, config_path, data_dir, force, database_url)
        return restore(request)

    done = _decrypting(attempt, passphrase_file, as_json)
    header = done.contents.header
    summary = {
        "config": str(done.targets.config),
        "data_dir": str(done.targets.data_dir),
        "relocated": done.targets.relocated,
        "database": header.database,
        "files": len(done.contents.manifest.files),
        "data_bytes": done.contents.data_bytes,
        "app_version": header.app_version,
        "alembic_revision": header.alembic_revision,
        "created": header.created,
        "seconds": round(done.seconds, 3),
    }
    lines = [
        f"Restored the backup made {header.created} (See the Signs {header.app_version}).",
        f"Configuration: {done.targets.config}",
        f"Data directory: {done.targets.data_dir}",
        f"Next: seethesigns migrate --config {done.targets.config}, then start the services.",
    ]
    _report(summary, lines, as_json)
