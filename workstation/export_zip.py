"""Reading the staff interface's bulk export: a zip of `<designation>/<stored name>` entries.

Nothing in the zip is trusted. Entry names are only matched against the one layout the
export uses; no file is ever created from them. Links, duplicates and strays are reported
and skipped, and every entry is read through a stream that holds it to the size limits and
turns zip damage into a problem for that entry alone.
"""

from __future__ import annotations

import re
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from workstation.filenames import printable
from workstation.problems import CorruptEntry, ItemProblem, UnexpectedEntry, bomb
from workstation.settings import Limits
from workstation.zip_recovery import Recovered, RecoveredStream, recover

ENTRY_NAME = re.compile(r"^([a-z_]{1,64})/([0-9]{1,9})-\1-(msg\.gpg|doc\.gz\.gpg|reply\.gpg)$")
KINDS = {"msg.gpg": "message", "doc.gz.gpg": "document", "reply.gpg": "reply"}
MAX_ENTRIES = 100_000


class CorruptExport(Exception):
    """The export as a whole cannot be read as a zip."""


@dataclass(frozen=True)
class Entry:
    """One item of the export, as named in the zip."""

    name: str
    designation: str
    number: int
    kind: str
    info: zipfile.ZipInfo


@dataclass(frozen=True)
class Skipped:
    """A zip entry that is not an item, and why."""

    name: str
    problem: ItemProblem


class _EntryStream:
    """A zip entry's bytes, within a limit; zip damage becomes CorruptEntry."""

    def __init__(self, raw: IO[bytes] | RecoveredStream, limit: int) -> None:
        self._raw = raw
        self._limit = limit
        self._read = 0

    def read(self, size: int = -1) -> bytes:
        try:
            data = self._raw.read(size)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise CorruptEntry(f"damaged in the zip: {exc}") from None
        self._read += len(data)
        if self._read > self._limit:
            raise bomb("its zip entry", self._limit)
        return data


def _classify(info: zipfile.ZipInfo, seen: set[str]) -> Entry | ItemProblem | None:
    """The item a zip entry holds, the problem with it, or None for a folder entry."""
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind == stat.S_IFLNK:
        return UnexpectedEntry("a symbolic link in the zip: skipped, nothing was followed")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        return UnexpectedEntry("a special file (device, pipe or socket) in the zip: skipped")
    if info.is_dir():
        if re.fullmatch(r"[a-z_]{1,64}/", info.filename):
            return None
        return UnexpectedEntry("an unexpected folder in the zip: skipped")
    found = ENTRY_NAME.fullmatch(info.filename)
    if found is None:
        return UnexpectedEntry(
            "not a See the Signs item name (expected designation/N-designation-kind.gpg): skipped"
        )
    if info.filename in seen:
        return UnexpectedEntry("appears twice in the zip: only the first was opened")
    if info.flag_bits & 0x1:
        return UnexpectedEntry("a password-protected zip entry: skipped")
    seen.add(info.filename)
    return Entry(info.filename, found.group(1), int(found.group(2)), KINDS[found.group(3)], info)


class ExportZip:
    """An open export: its zip entries, and how to read each one."""

    def __init__(
        self,
        infos: list[zipfile.ZipInfo],
        opener: Callable[[zipfile.ZipInfo], IO[bytes] | RecoveredStream],
        limits: Limits,
        *,
        recovered: Recovered | None = None,
    ) -> None:
        self._infos = infos
        self._opener = opener
        self._limits = limits
        self.recovered = recovered

    def entries(self) -> tuple[list[Entry], list[Skipped]]:
        """The items in conversation order, and the entries skipped with their problem."""
        items: list[Entry] = []
        skipped: list[Skipped] = []
        seen: set[str] = set()
        if len(self._infos) > MAX_ENTRIES:
            raise CorruptExport(
                f"the zip lists {len(self._infos):,} entries; no export has so many"
            )
        for info in self._infos:
            found = _classify(info, seen)
            if isinstance(found, Entry):
                items.append(found)
            elif found is not None:
                skipped.append(Skipped(printable(info.filename), found))
        if self.recovered is not None and self.recovered.cut is not None:
            name, problem = self.recovered.cut
            skipped.append(Skipped(printable(name), problem))
        items.sort(key=lambda entry: (entry.designation, entry.number))
        return items, skipped

    def limit(self, entry: Entry) -> int:
        """The most bytes this entry may hold: its own size, within the limits."""
        return self._limits.ceiling(entry.info.compress_size)

    @contextmanager
    def open(self, entry: Entry) -> Iterator[_EntryStream]:
        """Read one entry; its declared size is checked before anything is inflated."""
        limit = self.limit(entry)
        if entry.info.file_size > limit:
            raise bomb("its zip entry", limit)
        try:
            raw = self._opener(entry.info)
        except (zipfile.BadZipFile, zlib.error, OSError, NotImplementedError) as exc:
            raise CorruptEntry(f"damaged in the zip: {exc}") from None
        try:
            yield _EntryStream(raw, limit)
        finally:
            raw.close()


@contextmanager
def open_export(path: Path, limits: Limits) -> Iterator[ExportZip]:
    """Open an export, or what is left of one cut short; else raise CorruptExport."""
    archive: zipfile.ZipFile | None = None
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise CorruptExport(f"{path} does not exist") from None
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        reason = str(exc)
    if archive is not None:
        with archive:
            yield ExportZip(archive.infolist(), archive.open, limits)
        return
    found = recover(path) if path.is_file() else Recovered()
    if not found.infos:
        raise CorruptExport(
            f"{path} is not a readable zip ({reason}); was the download cut short? "
            "Take the export again from the staff interface"
        )
    yield ExportZip(found.infos, lambda info: RecoveredStream(path, info), limits, recovered=found)
