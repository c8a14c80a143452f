"""The archive's layout and manifest: which members a backup holds, and their sha256 sums.

Members come in a fixed order: the header first (what a restore must know before any data
arrives: where the instance lived, which schema its database is at), then the configuration,
then the data, and the manifest last, because the sums are computed while the data streams.
"""

from __future__ import annotations

import json
import re
import tarfile
from dataclasses import asdict, dataclass
from typing import Any

from seethesigns.backups.errors import ArchiveDamaged, Unsupported
from seethesigns.storage import FILESYSTEM_ID, STORED_NAME

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
# Format 2 added PostgreSQL dumps. An SQLite backup is still format 1, so an older release
# restores it; that release refuses a PostgreSQL backup by its format, not as a damaged archive.
FORMAT = 1
FORMATS = {SQLITE: FORMAT, POSTGRESQL: 2}
HEADER = "backup.json"
CONFIG = "config.toml"
DATABASE = "database.sqlite"
PG_DUMP = "database.pgdump"
DATABASE_MEMBERS = {SQLITE: DATABASE, POSTGRESQL: PG_DUMP}
ENGINE_NAMES = {SQLITE: "SQLite", POSTGRESQL: "PostgreSQL"}
MANIFEST = "manifest.json"
GNUPG = "gnupg"
ONION = "onion"
STORE = "store"
# A keyring or onion key file: one plain name, never hidden, never a path.
PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")
SHA256 = re.compile(r"[0-9a-f]{64}")
# Small members are read into memory; a hostile archive cannot make them huge.
MAX_SMALL_MEMBER = 16 * 1024 * 1024
KINDS = {
    tarfile.SYMTYPE: "a symbolic link",
    tarfile.LNKTYPE: "a hard link",
    tarfile.CHRTYPE: "a device",
    tarfile.BLKTYPE: "a device",
    tarfile.FIFOTYPE: "a FIFO",
    tarfile.DIRTYPE: "a directory",
}


def is_member_name(name: str) -> bool:
    """Whether name is one a backup writes: never absolute, never '..', never unexpected."""
    if name in (HEADER, CONFIG, DATABASE, PG_DUMP, MANIFEST):
        return True
    parts = name.split("/")
    if len(parts) == 2 and parts[0] in (GNUPG, ONION):
        return PLAIN_NAME.fullmatch(parts[1]) is not None
    return (
        len(parts) == 3
        and parts[0] == STORE
        and FILESYSTEM_ID.fullmatch(parts[1]) is not None
        and STORED_NAME.fullmatch(parts[2]) is not None
    )


def member_problem(info: tarfile.TarInfo) -> str | None:
    """Why a tar member must not be extracted, or None if it is a plain file we would write."""
    if info.type not in (tarfile.REGTYPE, tarfile.AREGTYPE):
        return f"it is {KINDS.get(info.type, 'not a regular file')}"
    if not is_member_name(info.name):
        return "its name is not one a backup uses (absolute, '..', or unknown)"
    return None


def _field(doc: dict[str, Any], key: str, kind: type) -> Any:
    value = doc.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ArchiveDamaged(f"the backup's {key!r} is missing or malformed")
    return value


def _load_json(data: bytes, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except ValueError:
        raise ArchiveDamaged(f"the backup's {what} is not valid JSON") from None
    if not isinstance(doc, dict):
        raise ArchiveDamaged(f"the backup's {what} is not a JSON object")
    return doc


@dataclass(frozen=True)
class BackupHeader:
    """About the backed-up instance; no client data."""

    format: int
    app_version: str
    alembic_revision: str
    created: str
    config_path: str
    data_dir: str
    database: str = SQLITE

    @property
    def database_member(self) -> str:
        """The archive member holding the database: a file copy, or a pg_dump dump."""
        return DATABASE_MEMBERS[self.database]

    def to_json(self) -> bytes:
        """The header as a JSON document."""
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode("utf-8")

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> BackupHeader:
        """Read and check a header from a parsed JSON object."""
        version = _field(doc, "format", int)
        if version not in FORMATS.values():
            known = " and ".join(str(known) for known in sorted(set(FORMATS.values())))
            raise Unsupported(
                f"this backup has archive format {version}; this version reads formats {known}"
            )
        # A format 1 header from before PostgreSQL names no database: it is SQLite.
        database = doc.get("database", SQLITE)
        if FORMATS.get(database) != version:
            raise ArchiveDamaged("the backup's header names an unknown database for its format")
        return cls(
            format=version,
            **{
                key: _field(doc, key, str)
                for key in ("app_version", "alembic_revision", "created", "config_path", "data_dir")
            },
            database=database,
        )

    @classmethod
    def from_json(cls, data: bytes) -> BackupHeader:
        """Read and check the header member."""
        return cls.from_doc(_load_json(data, "header"))


@dataclass(frozen=True)
class FileEntry:
    """One member of the archive: its name, size and sha256 (hex)."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """The header again, and every other member's size and sha256, in archive order."""

    header: BackupHeader
    files: tuple[FileEntry, ...]

    def to_json(self) -> bytes:
        """The manifest as a JSON document."""
        doc = {**asdict(self.header), "files": [asdict(entry) for entry in self.files]}
        return json.dumps(doc, indent=1, sort_keys=True).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        """Read and check the manifest member."""
        doc = _load_json(data, "manifest")
        entries = []
        for item in _field(doc, "files", list):
            if not isinstance(item, dict):
                raise ArchiveDamaged("the backup's manifest lists something that is not a file")
            entry = FileEntry(
                _field(item, "path", str), _field(item, "size", int), _field(item, "sha256", str)
            )
            if (
                not is_member_name(entry.path)
                or entry.size < 0
                or not SHA256.fullmatch(entry.sha256)
            ):
                raise ArchiveDamaged("the backup's manifest lists a malformed file entry")
            entries.append(entry)
        return cls(BackupHeader.from_doc(doc), tuple(entries))

    def check(self, header: BackupHeader, found: list[FileEntry]) -> None:
        """Raise ArchiveDamaged unless found is exactly what the manifest lists."""
        if header != self.header:
            raise ArchiveDamaged("the backup's header does not match its manifest")
        expected = {entry.path: entry for entry in self.files}
        seen = {entry.path: entry for entry in found}
        missing = expected.keys() - seen.keys()
        extra = seen.keys() - expected.keys()
        differ = [path for path in expected.keys() & seen.keys() if expected[path] != seen[path]]
        if missing or extra or differ:
            raise ArchiveDamaged(
                f"the archive does not match its manifest: {len(differ)} files differ, "
                f"{len(missing)} are missing and {len(extra)} are not listed"
            )
