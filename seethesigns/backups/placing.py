"""Moving a verified, staged restore into place, and the staging directory it comes from.

Data is staged in a private folder inside the target data directory, so moving each part into
place is a rename on the same filesystem. Nothing is moved until the whole archive has been
decrypted and every file matched the manifest.
"""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from seethesigns.backups import postgresql
from seethesigns.backups.cleanup import shred_tree
from seethesigns.backups.manifest import DATABASE, GNUPG, ONION, PG_DUMP, STORE
from seethesigns.backups.output import fsync_dir
from seethesigns.backups.targets import Targets
from seethesigns.storage import write_private_atomically

# SQLite's companions of a database file: a stale -wal left beside a restored database would
# be replayed into it.
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def make_private_dirs(path: Path) -> list[Path]:
    """Create path and any missing parents with mode 0700; return those created, top first."""
    created = []
    for folder in [*reversed(path.parents), path]:
        if not folder.exists():
            folder.mkdir(mode=0o700)
            folder.chmod(0o700)
            created.append(folder)
    return created


@dataclass
class Staging:
    """The private folder a restore is extracted into, and the folders made for it."""

    data_dir: Path
    created: list[Path] = field(default_factory=list)
    root: Path | None = None

    def open(self) -> Path:
        """Create the staging folder (and the data directory if needed)."""
        self.created = make_private_dirs(self.data_dir)
        self.root = self.data_dir / f".restore-{secrets.token_hex(6)}"
        make_private_dirs(self.root)
        for part in (STORE, GNUPG, ONION):
            make_private_dirs(self.root / part)
        return self.root

    def abandon(self) -> None:
        """Remove everything staged, and the folders this restore created."""
        if self.root is not None:
            shred_tree(self.root)
        for folder in reversed(self.created):
            try:
                folder.rmdir()
            except OSError:
                break


def _set_aside(path: Path, aside: list[Path]) -> None:
    if path.exists() or path.is_symlink():
        moved = path.with_name(f".{path.name}.replaced-{secrets.token_hex(4)}")
        os.rename(path, moved)
        aside.append(moved)


def _move(source: Path, target: Path) -> None:
    make_private_dirs(target.parent)
    # A keys_dir or database outside the data directory may be on another filesystem.
    shutil.move(source, target)


def put_in_place(staging: Path, targets: Targets) -> None:
    """Move the staged parts and the configuration into place, replacing what is there.

    Whatever they replace (only with --force) is set aside first and shredded once the
    restored instance is complete. A PostgreSQL dump goes into its database first, in one
    transaction: if pg_restore fails, nothing has been moved and the database is as it was.
    """
    if targets.database is None:
        postgresql.restore_dump(staging / PG_DUMP, targets.database_url)
    os.sync()  # the staged files are durable before anything points at them
    aside: list[Path] = []
    for name, target in ((STORE, targets.store), (GNUPG, targets.keyring), (ONION, targets.onion)):
        _set_aside(target, aside)
        _move(staging / name, target)
    if targets.database is not None:
        for suffix in ("", *SQLITE_COMPANIONS):
            _set_aside(Path(f"{targets.database}{suffix}"), aside)
        _move(staging / DATABASE, targets.database)
    _set_aside(targets.config, aside)
    make_private_dirs(targets.config.parent)
    write_private_atomically(targets.config, targets.config_text)
    make_private_dirs(targets.data_dir / "tmp")
    targets.data_dir.chmod(0o700)
    for folder in {targets.data_dir, targets.config.parent, targets.onion.parent}:
        fsync_dir(folder)
    for path in aside:
        shred_tree(path)
