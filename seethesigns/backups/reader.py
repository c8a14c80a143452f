"""Reading a decrypted archive as it streams: every member checked, hashed, handed to a sink.

Nothing here calls tarfile's extract: a member's bytes go only to the sink, under a name that
has already been checked against the few a backup writes (so no absolute path, no '..', no
link, no device can come through), and each is hashed for the manifest check at the end.
"""

from __future__ import annotations

import hashlib
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Protocol

from seethesigns.backups.errors import ArchiveDamaged, UnsafeMember
from seethesigns.backups.manifest import (
    CONFIG,
    DATABASE_MEMBERS,
    HEADER,
    MANIFEST,
    MAX_SMALL_MEMBER,
    BackupHeader,
    FileEntry,
    Manifest,
    member_problem,
)

CHUNK = 1024 * 1024
LEADING = (HEADER, CONFIG)


class Sink(Protocol):
    """Where the data members go: a staging directory, or nowhere (a check only)."""

    def prepare(self, header: BackupHeader, config: bytes) -> None:
        """Called once the header and configuration are in, before any data member."""

    def write(self, name: str, chunks: Iterator[bytes]) -> None:
        """Store a data member's bytes; must consume every chunk."""


class Discard:
    """A sink that keeps nothing, for `backup --verify`."""

    def prepare(self, header: BackupHeader, config: bytes) -> None:
        """Nothing to prepare."""

    def write(self, name: str, chunks: Iterator[bytes]) -> None:
        """Read the member (so it is hashed) and drop it."""
        for _ in chunks:
            pass


@dataclass(frozen=True)
class ArchiveContents:
    """A whole archive, read and checked against its manifest."""

    header: BackupHeader
    config: bytes
    manifest: Manifest

    @property
    def data_bytes(self) -> int:
        """The total size of the members the manifest lists."""
        return sum(entry.size for entry in self.manifest.files)


def _small(handle: IO[bytes], info: tarfile.TarInfo) -> bytes:
    if info.size > MAX_SMALL_MEMBER:
        raise ArchiveDamaged(f"the archive's {info.name} is implausibly large")
    return handle.read()


def _checked(info: tarfile.TarInfo, seen: set[str], manifest: Manifest | None) -> None:
    problem = member_problem(info)
    if problem:
        raise UnsafeMember(f"refusing the archive: its member {info.name!r} is unsafe: {problem}")
    if manifest is not None:
        raise ArchiveDamaged("the archive goes on after its manifest")
    if info.name in seen:
        raise ArchiveDamaged(f"the archive holds {info.name} twice")
    if len(seen) < len(LEADING) and info.name != LEADING[len(seen)]:
        raise ArchiveDamaged("the archive does not start with a backup header and configuration")
    seen.add(info.name)


def read_archive(stream: IO[bytes], sink: Sink) -> ArchiveContents:
    """Read the tar stream to its end, feeding data members to sink, and check the manifest."""
    found: list[FileEntry] = []
    seen: set[str] = set()
    header: BackupHeader | None = None
    config = b""
    manifest: Manifest | None = None
    try:
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for info in tar:
                _checked(info, seen, manifest)
                handle = tar.extractfile(info)
                assert handle is not None  # a regular file, checked above
                if info.name == MANIFEST:
                    manifest = Manifest.from_json(_small(handle, info))
                    continue
                if info.name in LEADING:
                    data = _small(handle, info)
                    digest, size = hashlib.sha256(data), len(data)
                    if info.name == HEADER:
                        header = BackupHeader.from_json(data)
                    else:
                        config = data
                        assert header is not None  # the header comes first, checked above
                        sink.prepare(header, config)
                else:
                    hashing = _Hashing(handle)
                    sink.write(info.name, iter(hashing))
                    digest, size = hashing.digest, hashing.size
                found.append(FileEntry(info.name, size, digest.hexdigest()))
    except tarfile.TarError as exc:
        raise ArchiveDamaged(f"the archive is damaged: {exc}") from None
    while stream.read(CHUNK):
        pass  # the tar format's trailing padding; gpg must be read to its end
    if header is None or manifest is None or header.database_member not in seen:
        raise ArchiveDamaged("the archive is incomplete: it has no database or no manifest")
    if seen & set(DATABASE_MEMBERS.values()) != {header.database_member}:
        # Never restore a dump of one engine as if it were the other's.
        raise ArchiveDamaged("the archive holds a database of another kind than its header says")
    manifest.check(header, found)
    return ArchiveContents(header, config, manifest)


class _Hashing:
    """A member's bytes in chunks, hashed and counted as the sink takes them."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self.digest = hashlib.sha256()
        self.size = 0

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self._handle.read(CHUNK):
            self.digest.update(chunk)
            self.size += len(chunk)
            yield chunk
