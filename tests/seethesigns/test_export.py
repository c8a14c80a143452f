"""The streamed zip: every byte of every file, a folder per source, flat memory, cut short."""

from __future__ import annotations

import io
import os
import time
import tracemalloc
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from seethesigns.export import SEEN_BATCH, ExportEntry, zip_stream
from tests.conftest import short_tmpdir

WHEN = datetime(2024, 5, 1, 12, 30, 4)


@pytest.fixture
def folder() -> Iterator[Path]:
    """A scratch directory for files to export."""
    path = short_tmpdir("stsexp")
    yield path
    for item in path.iterdir():
        item.unlink()
    path.rmdir()


def entry(path: Path, n: int, designation: str = "gentle otter") -> ExportEntry:
    """An entry for a file, named as the store names items."""
    slug = designation.replace(" ", "_")
    return ExportEntry("submission", n, path, designation, f"{n}-{slug}-msg.gpg", WHEN)


def test_every_file_is_stored_byte_for_byte_in_a_folder_per_source(folder: Path) -> None:
    sizes = {"a": 3 * 1024 * 1024 + 17, "b": 10, "c": 0}
    for name, size in sizes.items():
        (folder / name).write_bytes(os.urandom(size))
    entries = [
        entry(folder / "a", 1),
        entry(folder / "b", 2, "calm heron"),
        entry(folder / "c", 3),
        entry(folder / "gone", 4),  # deleted after it was selected
    ]
    exported: list[list[int]] = []
    data = b"".join(zip_stream(entries, lambda done: exported.append([e.id for e in done])))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == [
            "gentle_otter/1-gentle_otter-msg.gpg",
            "calm_heron/2-calm_heron-msg.gpg",
            "gentle_otter/3-gentle_otter-msg.gpg",
        ]
        for name, info in zip(sizes, archive.infolist(), strict=True):
            assert archive.read(info) == (folder / name).read_bytes()
            assert info.compress_type == zipfile.ZIP_STORED
            assert info.date_time == (2024, 5, 1, 12, 30, 4)
    assert exported == [[1, 2, 3]]


def test_a_download_cut_short_reports_only_the_files_sent(folder: Path) -> None:
    (folder / "small").write_bytes(b"x" * 100)
    (folder / "large").write_bytes(os.urandom(4 * 1024 * 1024))
    exported: list[int] = []
    stream = zip_stream(
        [entry(folder / "small", 1), entry(folder / "large", 2)],
        lambda done: exported.extend(e.id for e in done),
    )
    next(stream)  # the small file, whole
    next(stream)  # the first chunk of the large one
    next(stream)
    stream.close()  # the browser went away
    assert exported == [1]


def test_files_are_reported_in_batches(folder: Path) -> None:
    (folder / "f").write_bytes(b"ciphertext")
    batches: list[int] = []
    count = SEEN_BATCH * 2 + 3
    stream = zip_stream(
        [entry(folder / "f", n) for n in range(count)], lambda d: batches.append(len(d))
    )
    with zipfile.ZipFile(io.BytesIO(b"".join(stream))) as archive:
        assert len(archive.namelist()) == count
    assert batches == [SEEN_BATCH, SEEN_BATCH, 3]


def test_memory_stays_flat_for_300_mb(folder: Path) -> None:
    block = os.urandom(1024 * 1024)
    for name in ("one", "two", "three"):
        with (folder / name).open("wb") as handle:
            for _ in range(100):
                handle.write(block)
    entries = [entry(folder / name, n) for n, name in enumerate(("one", "two", "three"), 1)]
    total = 0
    started = time.monotonic()
    tracemalloc.start()
    try:
        for chunk in zip_stream(entries, lambda done: None):
            total += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total > 300 * 1024 * 1024
    # A few 1 MiB chunks in flight at most, against 300 MiB of files.
    assert peak < 8 * 1024 * 1024, peak
    assert time.monotonic() - started < 60
