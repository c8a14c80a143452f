"""An export cut short: its zip has no index, yet every whole entry before the cut opens.

The exports here are streamed the way the staff interface streams them (zipfile writing to
a sink that cannot seek, so sizes follow the data in descriptors), then cut.
"""

from __future__ import annotations

import io
import os
import struct
import time
import zipfile
from functools import partial
from pathlib import Path

import pytest

from tests.workstation.conftest import ServerSide, WorkstationKey, open_export
from workstation.problems import CorruptEntry
from workstation.zip_recovery import CHUNK, DESCRIPTOR, RecoveredStream, recover


class Unseekable(io.RawIOBase):
    """A sink zipfile cannot seek in, like the staff interface's streamed response."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, chunk: bytes) -> int:  # type: ignore[override]
        self.data += chunk
        return len(chunk)


def streamed_zip(entries: dict[str, bytes]) -> bytes:
    """A stored zip written as a stream: every entry followed by a data descriptor."""
    sink = Unseekable()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_STORED) as archive:
        for name, data in entries.items():
            with archive.open(zipfile.ZipInfo(name), "w") as member:
                member.write(data)
    return bytes(sink.data)


def test_a_cut_export_opens_what_came_before_the_cut(
    workstation_key: WorkstationKey,
    server_side: ServerSide,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    last = "cut_otter/3-cut_otter-doc.gz.gpg"
    entries = {
        "cut_otter/1-cut_otter-msg.gpg": server_side.message("first"),
        "cut_otter/2-cut_otter-doc.gz.gpg": server_side.document(os.urandom(200_000), "a.bin"),
        last: server_side.document(os.urandom(200_000), "b.bin"),
    }
    whole = streamed_zip(entries)
    export = workdir / "export.zip"
    export.write_bytes(whole[: whole.index(entries[last]) + 1000])

    assert open_export(workstation_key, export, workdir / "out") == 1

    captured = capsys.readouterr()
    assert "has no zip index" in captured.err
    assert f"{last}: cut short: the download ends inside it" in captured.out
    assert (workdir / "out/cut_otter/1-message.txt").read_text() == "first"
    assert (workdir / "out/cut_otter/documents/a.bin").stat().st_size == 200_000
    assert not (workdir / "out/cut_otter/documents/b.bin").exists()


def test_a_descriptor_signature_inside_the_data_does_not_end_the_entry(workdir: Path) -> None:
    # A false descriptor: the signature, then a CRC and size that do not fit.
    tricky = b"x" * 100 + DESCRIPTOR + b"\x00" * 20 + os.urandom(100)
    export = workdir / "e.zip"
    export.write_bytes(streamed_zip({"a/1-a-msg.gpg": tricky, "a/2-a-msg.gpg": b"second"}))
    found = recover(export)
    assert [info.filename for info in found.infos] == ["a/1-a-msg.gpg", "a/2-a-msg.gpg"]
    assert found.cut is None
    stream = RecoveredStream(export, found.infos[0])
    data = b"".join(iter(lambda: stream.read(7), b""))
    stream.close()
    assert data == tricky


def test_a_damaged_byte_in_a_recovered_entry_fails_its_crc(workdir: Path) -> None:
    blob = bytearray(streamed_zip({"a/1-a-msg.gpg": b"hello world" * 100}))
    export = workdir / "e.zip"
    found_at = blob.index(b"hello world")
    export.write_bytes(bytes(blob))
    info = recover(export).infos[0]
    blob[found_at] ^= 1
    export.write_bytes(bytes(blob))
    stream = RecoveredStream(export, info)
    with pytest.raises(CorruptEntry, match="CRC does not match"):
        while stream.read(64):
            pass
    stream.close()


def test_deflated_entries_with_sizes_in_their_headers_are_recovered(workdir: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a/1-a-msg.gpg", b"compressible " * 1000)
    data = buffer.getvalue()
    export = workdir / "e.zip"
    export.write_bytes(data[: data.index(b"PK\x01\x02")])  # no central directory
    (info,) = recover(export).infos
    stream = RecoveredStream(export, info)
    assert b"".join(iter(lambda: stream.read(100), b"")) == b"compressible " * 1000
    stream.close()


@pytest.mark.parametrize("length", [CHUNK - 30, CHUNK - 16, CHUNK - 8, CHUNK, CHUNK + 5])
def test_descriptors_and_false_signatures_across_a_read_boundary(
    workdir: Path, length: int
) -> None:
    data = bytearray(os.urandom(length))
    for at in (CHUNK - 40, CHUNK - 23, CHUNK - 12, CHUNK - 4, CHUNK + 1):
        if at + 4 <= length:
            data[at : at + 4] = DESCRIPTOR  # false ones, where a read ends
    entries = {"a/1-a-msg.gpg": bytes(data), "a/2-a-msg.gpg": b"second"}
    export = workdir / "e.zip"
    export.write_bytes(streamed_zip(entries))
    found = recover(export)
    assert [info.file_size for info in found.infos] == [length, 6]
    for info, expected in zip(found.infos, entries.values(), strict=True):
        stream = RecoveredStream(export, info)
        assert b"".join(iter(partial(stream.read, CHUNK), b"")) == expected  # CRC checked
        stream.close()


def hostile_export(path: Path, size: int) -> Path:
    """A cut export whose one stored entry is size bytes of false descriptors.

    Every 32 bytes: a descriptor whose size is its own offset (so only a CRC over everything
    before it can refute it), then four bare signatures.
    """
    name = b"a/1-a-msg.gpg"
    header = b"PK\x03\x04" + struct.pack("<HHHHHIIIHH", 20, 0x08, 0, 0, 0, 0, 0, 0, len(name), 0)
    records = (
        DESCRIPTOR + b"\xff\xff\xff\xff" + struct.pack("<Q", offset) + DESCRIPTOR * 4
        for offset in range(0, size, 32)
    )
    path.write_bytes(header + name + b"".join(records))
    return path


def recovery_seconds(path: Path) -> float:
    """The best of three timed recoveries of path, which must end in a cut entry."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        found = recover(path)
        times.append(time.perf_counter() - started)
        assert found.infos == [] and found.cut is not None
        assert str(found.cut[1]) == "cut short: the download ends inside it"
    return min(times)


def test_recovery_time_grows_linearly_with_hostile_data(workdir: Path) -> None:
    # Eight times the data may take about eight times as long, never 64 (quadratic): a
    # CRC from the start before each signature took 8 s for 512 KiB, 45 minutes for 100 MB.
    small = recovery_seconds(hostile_export(workdir / "s.zip", 64 * 1024))
    medium = recovery_seconds(hostile_export(workdir / "m.zip", 512 * 1024))
    assert medium < 16 * small, (small, medium)
    large = recovery_seconds(hostile_export(workdir / "l.zip", 4 * 1024 * 1024))
    assert large < 16 * medium, (medium, large)
