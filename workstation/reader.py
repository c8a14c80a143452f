"""Opening a bulk export into a folder: decrypt, gunzip, name, and report every item.

Layout of the output folder:
    index.html                          every designation, and every problem
    <designation>/index.html            one conversation, in order
    <designation>/<n>-message.txt       messages and replies as plain text
    <designation>/documents/<name>      documents under their sanitised original names
Work files (ciphertext copies, compressed documents) live in `.work/` and are removed.
"""

from __future__ import annotations

import errno
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from workstation.documents import inflate, read_header
from workstation.export_zip import Entry, ExportZip, Skipped
from workstation.filenames import create_unique, printable
from workstation.keyring import OfflineKeyring
from workstation.metadata import MetadataCleaner
from workstation.problems import ItemProblem
from workstation.settings import Limits

WORK = ".work"
DOCUMENTS = "documents"
# Shown in the page; the whole text is always in the .txt file beside it.
MAX_INLINE_TEXT_BYTES = 1024 * 1024


class OutputFolderError(Exception):
    """The output folder cannot be used."""


@dataclass
class OpenedItem:
    """One item of the export and what became of it."""

    entry: str
    designation: str
    number: int
    kind: str
    path: Path | None = None
    size: int = 0
    text: str | None = None
    text_clipped: bool = False
    original: Path | None = None
    note: str | None = None
    problem: str | None = None


@dataclass
class OpenReport:
    """Everything one run of `open` did, for the index and the terminal summary."""

    out_dir: Path
    items: list[OpenedItem] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def designations(self) -> dict[str, list[OpenedItem]]:
        """Items grouped by designation, each group in conversation order."""
        grouped: dict[str, list[OpenedItem]] = {}
        for item in sorted(self.items, key=lambda found: (found.designation, found.number)):
            grouped.setdefault(item.designation, []).append(item)
        return grouped

    def problems(self) -> list[tuple[str, str]]:
        """(entry name, what was wrong) for every item or entry not opened."""
        found = [(item.entry, item.problem) for item in self.items if item.problem]
        return found + [(skip.name, str(skip.problem)) for skip in self.skipped]


def prepare_output(out_dir: Path) -> None:
    """Make the output folder, mode 0700; an existing one must be empty."""
    if out_dir.is_symlink() or (out_dir.exists() and not out_dir.is_dir()):
        raise OutputFolderError(f"{out_dir} is not a folder")
    if out_dir.exists() and any(out_dir.iterdir()):
        raise OutputFolderError(f"{out_dir} is not empty; give a new folder for this export")
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    out_dir.chmod(0o700)


class ExportReader:
    """Opens each entry of an export with the offline key."""

    def __init__(
        self,
        keyring: OfflineKeyring,
        passphrase: str,
        limits: Limits,
        cleaner: MetadataCleaner | None = None,
    ) -> None:
        self._keyring = keyring
        self._passphrase = passphrase
        self._limits = limits
        self._cleaner = cleaner

    def read(self, archive: ExportZip, out_dir: Path) -> OpenReport:
        """Open every entry into out_dir (already prepared); one bad item stops nothing."""
        report = OpenReport(out_dir)
        entries, report.skipped = archive.entries()
        work = out_dir / WORK
        work.mkdir(mode=0o700)
        try:
            for number, entry in enumerate(entries):
                item = OpenedItem(entry.name, entry.designation, entry.number, entry.kind)
                try:
                    self._open(archive, entry, item, out_dir, work / f"{number}.out")
                except ItemProblem as exc:
                    item.problem = str(exc)
                except OSError as exc:
                    if exc.errno == errno.ENOSPC:
                        raise
                    item.problem = f"could not be written: {exc.strerror or exc}"
                report.items.append(item)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return report

    def _open(
        self, archive: ExportZip, entry: Entry, item: OpenedItem, out_dir: Path, decrypted: Path
    ) -> None:
        folder = out_dir / entry.designation
        folder.mkdir(mode=0o700, exist_ok=True)
        # Each layer may expand only so far beyond the one it came from.
        limit = self._limits.ceiling(entry.info.file_size)
        with archive.open(entry) as ciphertext:
            self._keyring.decrypt(ciphertext, decrypted, self._passphrase, limit)
        try:
            if entry.kind == "document":
                self._place_document(decrypted, folder / DOCUMENTS, item)
            else:
                self._place_text(decrypted, folder, item)
        finally:
            decrypted.unlink(missing_ok=True)

    def _place_text(self, decrypted: Path, folder: Path, item: OpenedItem) -> None:
        name = f"{item.number}-{item.kind}.txt"
        with _created(folder, name) as (path, handle), decrypted.open("rb") as source:
            shutil.copyfileobj(source, handle)
        item.path, item.size = path, path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(MAX_INLINE_TEXT_BYTES + 1)
        item.text_clipped = len(head) > MAX_INLINE_TEXT_BYTES
        item.text = head[:MAX_INLINE_TEXT_BYTES].decode("utf-8", errors="replace")

    def _place_document(self, decrypted: Path, folder: Path, item: OpenedItem) -> None:
        folder.mkdir(mode=0o700, exist_ok=True)
        limit = self._limits.ceiling(decrypted.stat().st_size)
        with decrypted.open("rb") as source:
            name = read_header(source)
            with _created(folder, name.decode("utf-8", "replace") if name else "") as created:
                path, handle = created
                item.size = inflate(source, handle, limit)
        item.path = path
        if self._cleaner is not None:
            cleaning = self._cleaner.clean(path)
            item.original, item.note = cleaning.original, cleaning.note


@contextmanager
def _created(folder: Path, name: str) -> Iterator[tuple[Path, BinaryIO]]:
    """A new file in folder under a safe, unique name; removed again if writing fails."""
    path, handle = create_unique(folder, name)
    try:
        with handle:
            yield path, handle
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def describe(item: OpenedItem) -> str:
    """A one-line description of an item for the terminal."""
    if item.problem:
        return f"NOT OPENED: {item.problem}"
    shown = printable(item.path.name) if item.path else ""
    return f"{shown} ({item.size:,} bytes)" + (f"; {item.note}" if item.note else "")
