"""A zip of stored files, written as a stream: memory stays flat however large the export.

zipfile writes to a sink that cannot seek, so every member's sizes and checksum follow its data
in a data descriptor instead of being patched into its header; each chunk is handed on as soon
as it is written. Members are stored, not compressed: the files are ciphertext already.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from seethesigns.storage import CHUNK, designation_slug

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

SEEN_BATCH = 200


@dataclass(frozen=True)
class ExportEntry:
    """One stored file to export, and who it belongs to."""

    kind: str  # "submission" or "reply"
    id: int
    path: Path
    designation: str
    filename: str
    created_at: datetime

    @property
    def arcname(self) -> str:
        """Its name in the zip, in a folder per source: "gentle_otter/1-gentle_otter-msg.gpg"."""
        return f"{designation_slug(self.designation)}/{self.filename}"


class _Pipe(io.RawIOBase):
    """A write-only, unseekable sink whose contents are taken away after each write."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        """It is written to."""
        return True

    def write(self, data: ReadableBuffer) -> int:
        """Keep the bytes until the next take()."""
        chunk = bytes(data)
        self._chunks.append(chunk)
        return len(chunk)

    def take(self) -> bytes:
        """Everything written since the last take."""
        data, self._chunks = b"".join(self._chunks), []
        return data


def _member(
    archive: zipfile.ZipFile, pipe: _Pipe, entry: ExportEntry
) -> Generator[bytes, None, None]:
    """Write one file into the archive, yielding the zip bytes as they are made."""
    try:
        handle = entry.path.open("rb")
    except FileNotFoundError:  # deleted since it was selected: leave it out
        return
    with handle:
        info = zipfile.ZipInfo(entry.arcname, entry.created_at.timetuple()[:6])
        info.compress_type = zipfile.ZIP_STORED
        # Known up front, so zipfile picks ZIP64 headers for files of 4 GiB and more.
        info.file_size = os.fstat(handle.fileno()).st_size
        with archive.open(info, "w") as member:
            while chunk := handle.read(CHUNK):
                member.write(chunk)
                yield pipe.take()
    yield pipe.take()


def zip_stream(
    entries: Iterable[ExportEntry], exported: Callable[[list[ExportEntry]], None]
) -> Iterator[bytes]:
    """The zip of these files, as chunks; exported() hears of files once they have gone out.

    A file counts as exported when the consumer asks for what follows its last chunk, so a
    download cut short leaves the rest unmarked. exported() is called in batches, and once
    more for the last few when the stream ends or is closed.
    """
    pipe = _Pipe()
    done: list[ExportEntry] = []
    try:
        with zipfile.ZipFile(pipe, "w", zipfile.ZIP_STORED) as archive:
            for entry in entries:
                wrote = False
                # Closed first if the download is cut short, so the archive can close after it.
                with closing(_member(archive, pipe, entry)) as chunks:
                    for chunk in chunks:
                        wrote = True
                        yield chunk
                if wrote:
                    done.append(entry)
                if len(done) >= SEEN_BATCH:
                    exported(done)
                    done = []
        yield pipe.take()
    finally:
        if done:
            exported(done)
