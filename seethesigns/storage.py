"""Encrypted files on disk: where they go, how they arrive atomically, how they are destroyed."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FILESYSTEM_ID = re.compile(r"^[A-Z2-7]{16,96}$")
STORED_NAME = re.compile(r"^[0-9]+-[a-z_]+-(msg\.gpg|doc\.gz\.gpg|reply\.gpg)$")
CHUNK = 1024 * 1024


class StorageError(Exception):
    """A file could not be stored or found."""


class StorageFull(StorageError):
    """The disk is full; nothing was kept."""


def designation_slug(designation: str) -> str:
    """ "gentle otter" -> "gentle_otter", as used in stored file names."""
    return designation.lower().replace(" ", "_")


def message_name(n: int, designation: str) -> str:
    """The stored name of a source's n-th item when it is a message."""
    return f"{n}-{designation_slug(designation)}-msg.gpg"


def document_name(n: int, designation: str) -> str:
    """The stored name of a source's n-th item when it is a document."""
    return f"{n}-{designation_slug(designation)}-doc.gz.gpg"


def reply_name(n: int, designation: str) -> str:
    """The stored name of a source's n-th item when it is a staff reply."""
    return f"{n}-{designation_slug(designation)}-reply.gpg"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _storage_error(exc: OSError) -> StorageError:
    return StorageFull("the disk is full") if exc.errno == errno.ENOSPC else StorageError(str(exc))


class Store:
    """The store directory: one folder per source, named by its filesystem_id."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def source_dir(self, filesystem_id: str) -> Path:
        """The folder of one source; the id is checked so it can never name another path."""
        if not FILESYSTEM_ID.fullmatch(filesystem_id):
            raise StorageError("not a filesystem id")
        return self.root / filesystem_id

    def path(self, filesystem_id: str, filename: str) -> Path:
        """The path of a stored item, refusing any name that is not one we made."""
        if not STORED_NAME.fullmatch(filename):
            raise StorageError("not a stored file name")
        return self.source_dir(filesystem_id) / filename

    def partial_path(self, filesystem_id: str) -> Path:
        """A new temporary name in a source's folder, for a file that is still arriving."""
        folder = self.source_dir(filesystem_id)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return folder / f".partial-{secrets.token_hex(8)}"

    @contextmanager
    def arriving(self, filesystem_id: str, filename: str) -> Iterator[Path]:
        """Yield a temporary path to write; on success make it durable under its final name.

        Only a file that has been fsynced and atomically renamed counts as stored; if the
        body raises, the partial file is removed, so a failed submission leaves nothing.
        """
        final = self.path(filesystem_id, filename)
        if final.exists():
            raise StorageError(f"{filename} already exists")
        partial = self.partial_path(filesystem_id)
        try:
            yield partial
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise _storage_error(exc) from exc
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        self.adopt(partial, filesystem_id, filename)

    def adopt(self, partial: Path, filesystem_id: str, filename: str) -> None:
        """Make a complete file from partial_path() durable under its final name.

        On failure the partial file is removed, so nothing half-stored stays behind.
        """
        final = self.path(filesystem_id, filename)
        try:
            if partial.parent != final.parent or not partial.name.startswith(".partial-"):
                raise StorageError("not an arriving file of this source")
            if final.exists():
                raise StorageError(f"{filename} already exists")
            with partial.open("rb+") as handle:
                os.fchmod(handle.fileno(), 0o600)  # whatever umask the writer (gpg) had
                os.fsync(handle.fileno())
            os.rename(partial, final)
            _fsync_dir(final.parent)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise _storage_error(exc) from exc
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

    def destroy(self, path: Path) -> None:
        """Overwrite a file with zeros, flush, then unlink it; a file already gone is fine.

        Two identical deletions may run at once (a client retrying, two staff members): the
        second finds the file gone at one step or another, and that too is success.
        """
        try:
            handle = path.open("rb+")
        except FileNotFoundError:
            return
        with handle:
            size = os.fstat(handle.fileno()).st_size
            zeros = bytes(min(CHUNK, size))
            remaining = size
            while remaining > 0:
                step = min(CHUNK, remaining)
                handle.write(zeros[:step])
                remaining -= step
            handle.flush()
            os.fsync(handle.fileno())
        path.unlink(missing_ok=True)

    def move_source(self, filesystem_id: str, new_id: str) -> None:
        """Give a source's folder a new name, durably (a folder already gone is fine)."""
        try:
            os.rename(self.source_dir(filesystem_id), self.source_dir(new_id))
        except FileNotFoundError:
            return
        _fsync_dir(self.root)

    def destroy_source(self, filesystem_id: str) -> None:
        """Destroy every file of a source, then its folder (gone already is fine)."""
        folder = self.source_dir(filesystem_id)
        try:
            items = list(folder.iterdir())
        except FileNotFoundError:
            return
        for item in items:
            if item.is_file() and not item.is_symlink():
                self.destroy(item)
        shutil.rmtree(folder, ignore_errors=True)


def checksum(path: Path) -> str:
    """SHA-256 of a stored file, as "sha256:<hex>" (the API's ETag)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


def write_private_atomically(path: Path, data: bytes) -> None:
    """Replace path atomically with a fsynced 0600 file holding data (keys, configuration)."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
