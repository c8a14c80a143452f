"""Restoring an instance from an archive, and checking an archive without restoring it."""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from seethesigns.backups.cleanup import shred_tree
from seethesigns.backups.database import is_known_revision
from seethesigns.backups.decrypt import decrypt_archive, private_scratch, secret_keyring
from seethesigns.backups.errors import BackupError, DiskFull, Unsupported
from seethesigns.backups.manifest import BackupHeader
from seethesigns.backups.placing import Staging, make_private_dirs, put_in_place
from seethesigns.backups.reader import ArchiveContents, Discard, Sink, read_archive
from seethesigns.backups.targets import (
    Targets,
    plan_targets,
    refuse_database_in_use,
    refuse_if_in_use,
)


@dataclass(frozen=True)
class RestoreRequest:
    """What to restore, with which key, and where (None: where the backup says it was)."""

    archive: Path
    secret_key: str
    passphrase: str | None = None
    config: Path | None = None
    data_dir: Path | None = None
    force: bool = False
    database_url: str | None = None


@dataclass(frozen=True)
class RestoreSummary:
    """Where the instance was restored, and what the archive held."""

    targets: Targets
    contents: ArchiveContents
    seconds: float


@dataclass(frozen=True)
class CheckSummary:
    """What `backup --verify` found: an intact archive, and whether this version can restore
    it (a backup from a newer version has a database schema this one does not know)."""

    contents: ArchiveContents
    restorable: bool
    seconds: float


def _require_known_schema(header: BackupHeader) -> None:
    if not is_known_revision(header.alembic_revision):
        raise Unsupported(
            f"this backup's database is at schema revision {header.alembic_revision}, which this "
            f"version does not know: restore it with See the Signs {header.app_version}"
        )


class StagingSink:
    """Plans the targets once the configuration is in, then stages every data member."""

    def __init__(self, request: RestoreRequest) -> None:
        self._request = request
        self.targets: Targets | None = None
        self.staging: Staging | None = None
        self.root: Path | None = None

    def prepare(self, header: BackupHeader, config: bytes) -> None:
        """Check the schema and the targets, then open the staging folder."""
        _require_known_schema(header)
        request = self._request
        targets = plan_targets(
            header, config, request.config, request.data_dir, request.database_url
        )
        if not request.force:
            others = [targets.store, targets.keyring, targets.onion]
            if targets.database is not None:
                others.append(targets.database)
            refuse_if_in_use(targets.config, targets.data_dir, others)
            refuse_database_in_use(targets)
        self.targets = targets
        self.staging = Staging(targets.data_dir)
        self.root = self.staging.open()

    def write(self, name: str, chunks: Iterator[bytes]) -> None:
        """Write one member as a new 0600 file in the staging folder."""
        assert self.root is not None  # prepare() comes first: the reader checks the order
        path = self.root / name
        make_private_dirs(path.parent)
        try:
            fd = os.open(
                path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
            )
            with os.fdopen(fd, "wb") as handle:
                for chunk in chunks:
                    handle.write(chunk)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise DiskFull(f"the disk holding {self.root.parent} is full") from None
            raise BackupError(f"writing {path} failed: {exc.strerror}") from None

    def abandon(self) -> None:
        """Remove everything staged so far."""
        if self.staging is not None:
            self.staging.abandon()


def _decrypted(request: RestoreRequest, sink: Sink) -> ArchiveContents:
    with private_scratch() as scratch, secret_keyring(request.secret_key, scratch) as gpg:
        return decrypt_archive(
            gpg, request.archive, request.passphrase, lambda stream: read_archive(stream, sink)
        )


def restore(request: RestoreRequest) -> RestoreSummary:
    """Decrypt, check and stage the whole archive, then move it into place."""
    started = time.monotonic()
    if not request.force:
        # Known before decrypting anything: refuse at once rather than after the whole archive.
        refuse_if_in_use(request.config, request.data_dir, [])
    sink = StagingSink(request)
    try:
        contents = _decrypted(request, sink)
        assert sink.root is not None and sink.targets is not None  # a complete archive
        try:
            put_in_place(sink.root, sink.targets)
        except OSError as exc:
            raise BackupError(
                f"moving the restored files into place failed ({exc}); "
                f"{sink.targets.data_dir} may hold part of them: empty it and restore again"
            ) from None
    except BaseException:
        sink.abandon()
        raise
    shred_tree(sink.root)
    return RestoreSummary(sink.targets, contents, time.monotonic() - started)


def verify(archive: Path, secret_key: str, passphrase: str | None = None) -> CheckSummary:
    """Decrypt the whole archive and check it against its manifest, extracting nothing."""
    started = time.monotonic()
    request = RestoreRequest(archive, secret_key, passphrase)
    contents = _decrypted(request, Discard())
    restorable = is_known_revision(contents.header.alembic_revision)
    return CheckSummary(contents, restorable, time.monotonic() - started)
