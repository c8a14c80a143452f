"""Writing the archive as a stream: tar members made on the fly and hashed as they go by.

gpg reads this stream and encrypts it as it is produced, so the unencrypted archive never
exists anywhere, on disk or whole in memory: at most one chunk of one file is held at a time.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tarfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from seethesigns.backups.errors import BackupError
from seethesigns.backups.manifest import MANIFEST, BackupHeader, FileEntry, Manifest

CHUNK = 1024 * 1024
BLOCK = tarfile.BLOCKSIZE


@dataclass(frozen=True)
class Part:
    """One member to write: a file on disk, or bytes already in memory."""

    name: str
    path: Path | None = None
    data: bytes | None = None
    # A store file can be purged between listing and reading; it is then left out.
    may_vanish: bool = False


def _tar_header(name: str, size: int, mtime: float) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(mtime), 0o600
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "strict")


def _padding(size: int) -> bytes:
    return b"\0" * (-size % BLOCK)


class TarStream:
    """The whole archive as a readable stream; the manifest is its last member.

    A failure (a file that cannot be read) is kept in `error` and ends the stream early, so gpg
    finishes cleanly and the caller discards its output; so does `cancelled()` turning true
    (the output disk is full), so nothing more is read for nothing.
    """

    def __init__(
        self,
        header: BackupHeader,
        parts: Iterable[Part],
        *,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> None:
        self._header = header
        self._parts = parts
        self._cancelled = cancelled
        self._chunks = self._generate()
        self._buffer = bytearray()
        self.entries: list[FileEntry] = []
        self.error: BaseException | None = None
        self.complete = False

    def read(self, size: int = -1, /) -> bytes:
        """Up to size bytes of the archive; b"" at its end or after a failure."""
        while (size < 0 or len(self._buffer) < size) and self.error is None:
            if self._cancelled():
                self.error = BackupError("the backup was cancelled")
                break
            try:
                chunk = next(self._chunks, None)
            except Exception as exc:
                self.error = exc
                break
            if chunk is None:
                break
            self._buffer += chunk
        if self.error is not None:
            return b""
        size = len(self._buffer) if size < 0 else min(size, len(self._buffer))
        out = bytes(self._buffer[:size])
        del self._buffer[:size]
        return out

    def _generate(self) -> Iterator[bytes]:
        written = 0
        for part in self._parts:
            for chunk in self._member(part):
                written += len(chunk)
                yield chunk
        manifest = Manifest(self._header, tuple(self.entries)).to_json()
        for chunk in (_tar_header(MANIFEST, len(manifest), 0), manifest, _padding(len(manifest))):
            written += len(chunk)
            yield chunk
        end = 2 * BLOCK
        yield b"\0" * (end + (-(written + end) % tarfile.RECORDSIZE))
        self.complete = True

    def _member(self, part: Part) -> Iterator[bytes]:
        if part.data is not None:
            yield _tar_header(part.name, len(part.data), 0)
            yield part.data
            yield _padding(len(part.data))
            self.entries.append(
                FileEntry(part.name, len(part.data), hashlib.sha256(part.data).hexdigest())
            )
            return
        assert part.path is not None
        try:
            fd = os.open(part.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            if part.may_vanish:
                return
            raise BackupError(f"{part.path} disappeared while being backed up") from None
        with os.fdopen(fd, "rb", buffering=0) as handle:
            found = os.fstat(fd)
            if not stat.S_ISREG(found.st_mode):
                raise BackupError(f"{part.path} is not a regular file")
            yield _tar_header(part.name, found.st_size, found.st_mtime)
            digest, remaining = hashlib.sha256(), found.st_size
            while remaining:
                chunk = handle.read(min(CHUNK, remaining))
                if not chunk:
                    raise BackupError(f"{part.path} shrank while being backed up")
                digest.update(chunk)
                remaining -= len(chunk)
                yield chunk
            yield _padding(found.st_size)
        self.entries.append(FileEntry(part.name, found.st_size, digest.hexdigest()))
