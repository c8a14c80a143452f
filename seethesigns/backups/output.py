"""Writing a file that appears under its final name only once it is complete and durable."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from seethesigns.backups.errors import BackupError, DiskFull, TargetInUse


def fsync_dir(path: Path) -> None:
    """Make a rename or new entry in directory path durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _failure(exc: OSError, where: Path) -> BackupError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFull(f"the disk holding {where.parent} is full; nothing was kept")
    return BackupError(f"writing {where} failed: {exc.strerror}")


class AtomicOutput:
    """A new 0600 file, written through a temporary name in the same directory.

    `write` is gpg's output callback: it runs in python-gnupg's reader thread, so it keeps a
    write error (a full disk) in `error` instead of raising, and the caller stops feeding gpg.
    """

    def __init__(self, final: Path) -> None:
        self.final = final
        self.partial = final.with_name(f".{final.name}.partial-{secrets.token_hex(6)}")
        self.size = 0
        self.error: OSError | None = None
        self._digest = hashlib.sha256()
        fd = os.open(self.partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        self._handle = os.fdopen(fd, "wb")

    def write(self, chunk: bytes) -> bool:
        """Append chunk; return False so python-gnupg keeps no copy of it."""
        if self.error is None and chunk:
            try:
                self._handle.write(chunk)
            except OSError as exc:
                self.error = exc
            else:
                self._digest.update(chunk)
                self.size += len(chunk)
        return False

    @property
    def sha256(self) -> str:
        """The sha256 of what was written, hex."""
        return self._digest.hexdigest()

    def check(self) -> None:
        """Raise the write error met so far, if any (DiskFull for a full disk)."""
        if self.error is not None:
            raise _failure(self.error, self.final)

    def commit(self) -> None:
        """fsync, then rename to the final name; a write error raised here removes the file."""
        self.check()
        try:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
            if self.final.exists():
                raise TargetInUse(f"{self.final} appeared while the backup was being written")
            os.rename(self.partial, self.final)
            fsync_dir(self.final.parent)
        except OSError as exc:
            raise _failure(exc, self.final) from None

    def discard(self) -> None:
        """Remove the temporary file (it holds ciphertext only, so no overwrite is needed)."""
        with contextlib.suppress(OSError):  # a full disk fails the last flush; the file goes
            self._handle.close()
        self.partial.unlink(missing_ok=True)


@contextmanager
def atomic_output(final: Path) -> Iterator[AtomicOutput]:
    """Yield an AtomicOutput for final; unless it was committed, nothing is left behind."""
    if final.exists():
        raise TargetInUse(f"{final} already exists; refusing to overwrite it")
    if not final.parent.is_dir():
        raise BackupError(f"{final.parent} is not a directory")
    try:
        output = AtomicOutput(final)
    except OSError as exc:
        raise _failure(exc, final) from None
    try:
        yield output
    finally:
        if output.partial.exists():
            output.discard()
