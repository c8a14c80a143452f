"""Making a backup: one encrypted archive of everything an instance needs to run again."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from seethesigns.backups.archive import Part, TarStream
from seethesigns.backups.contents import keyring_parts, onion_parts, store_parts
from seethesigns.backups.database import database_kind, database_snapshot
from seethesigns.backups.encrypt import encrypt_archive, read_backup_key
from seethesigns.backups.errors import BackupError
from seethesigns.backups.manifest import CONFIG, FORMATS, HEADER, STORE, BackupHeader
from seethesigns.backups.output import atomic_output
from seethesigns.settings import Settings


@dataclass(frozen=True)
class BackupSummary:
    """What was written: counts and sums only, never a file name (they name sources)."""

    output: Path
    size: int
    sha256: str
    key_fingerprint: str
    header: BackupHeader
    files: int
    store_files: int
    data_bytes: int
    skipped: int
    seconds: float


def app_version() -> str:
    """The installed version of See the Signs."""
    try:
        return version("seethesigns")
    except PackageNotFoundError:
        return "unknown"


def make_backup(settings: Settings, config: Path, key_file: Path, output: Path) -> BackupSummary:
    """Write one archive of the instance to output, encrypted to the public key in key_file.

    The database is copied first (SQLite's file, or a pg_dump of PostgreSQL), then the store
    is read: a submission's file is stored before its row is committed, so every row in the
    copy finds its file in the archive.
    """
    started = time.monotonic()
    config = config.resolve()
    database = database_kind(settings.database_url)
    key = read_backup_key(key_file, settings.tmp_dir)
    try:
        config_text = config.read_bytes()
    except OSError as exc:
        raise BackupError(f"cannot read {config}: {exc.strerror}") from None
    skipped: list[str] = []
    with (
        atomic_output(output) as out,
        database_snapshot(settings.database_url, settings.tmp_dir) as snapshot,
    ):
        header = BackupHeader(
            format=FORMATS[database],
            app_version=app_version(),
            alembic_revision=snapshot.alembic_revision,
            created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            config_path=str(config),
            data_dir=str(settings.data_dir),
            database=database,
        )
        parts = itertools.chain(
            [
                Part(HEADER, data=header.to_json()),
                Part(CONFIG, data=config_text),
                Part(snapshot.member, snapshot.path),
            ],
            keyring_parts(settings.gnupg_homedir),
            onion_parts(settings.tor.keys_dir),
            store_parts(settings.store_dir, skipped),
        )
        stream = TarStream(header, parts, cancelled=lambda: out.error is not None)
        encrypt_archive(stream, key, settings.tmp_dir, out)
        out.commit()
    return BackupSummary(
        output=output,
        size=out.size,
        sha256=out.sha256,
        key_fingerprint=key.fingerprint,
        header=header,
        files=len(stream.entries),
        store_files=sum(entry.path.startswith(f"{STORE}/") for entry in stream.entries),
        data_bytes=sum(entry.size for entry in stream.entries),
        skipped=len(skipped),
        seconds=time.monotonic() - started,
    )
