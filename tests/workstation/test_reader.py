"""`open` from end to end: good exports, the gzip layer, limits and the output folder.

Every hostile item sits in an export beside good ones: the test checks that it is reported
by name, that nothing lands outside the output folder, and that the good items still open.
"""

from __future__ import annotations

import gzip
import io
import os
import struct
import zlib
from pathlib import Path

import pytest

from tests.workstation.conftest import (
    PASSPHRASE,
    ServerSide,
    WorkstationKey,
    assert_good_items_opened,
    good_entries,
    open_export,
    reported,
    write_zip,
)


def test_a_clean_export_opens_completely(
    workstation_key: WorkstationKey,
    server_side: ServerSide,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    entries = good_entries(server_side)
    entries["good_otter/3-good_otter-reply.gpg"] = server_side.message("We are here to help.")
    export = write_zip(workdir / "export.zip", entries)

    assert open_export(workstation_key, export, workdir / "out") == 0

    out = workdir / "out"
    assert_good_items_opened(out)
    assert (out / "good_otter/3-reply.txt").read_text() == "We are here to help."
    assert not (out / ".work").exists()
    output = capsys.readouterr().out
    assert "Opened 3 of 3 entries." in output
    assert "NOT OPENED" not in output


def test_wrong_passphrase_opens_nothing(
    workstation_key: WorkstationKey,
    server_side: ServerSide,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    export = write_zip(workdir / "export.zip", good_entries(server_side))
    code = open_export(workstation_key, export, workdir / "out", passphrase="not the passphrase")
    assert code == 1
    assert "does not unlock the secret key" in capsys.readouterr().err
    assert not (workdir / "out").exists()


def test_a_gzip_bomb_is_refused_by_name(
    workstation_key: WorkstationKey,
    server_side: ServerSide,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 16 MiB of zeros gzips to about 16 KiB: under the 32 MiB size limit of the test
    # settings, but a ratio of ~1000, far over their limit of 50.
    zeros = io.BytesIO()
    with gzip.GzipFile("bomb.bin", "wb", fileobj=zeros, mtime=0) as handle:
        for _ in range(16):
            handle.write(bytes(1024 * 1024))
    name = "bomb_otter/3-bomb_otter-doc.gz.gpg"
    entries = {**good_entries(server_side), name: server_side.encrypt(zeros.getvalue())}
    export = write_zip(workdir / "export.zip", entries)

    assert open_export(workstation_key, export, workdir / "out") == 1

    line = reported(capsys, name)
    assert "decompression bomb" in line and "gzip" in line
    assert_good_items_opened(workdir / "out")
    assert not list((workdir / "out").rglob("bomb.bin"))
    assert not (workdir / "out/.work").exists()


def test_stored_and_deflated_documents_both_open(
    workstation_key: WorkstationKey, server_side: ServerSide, workdir: Path
) -> None:
    """Issue 16: the server stores incompressible files at gzip level 0, deflates the rest."""
    noise = os.urandom(2 * 1024 * 1024)
    text = b" ".join(os.urandom(3).hex().encode() for _ in range(300_000))
    noise_item = server_side.document(noise, "clip.mp4")
    text_item = server_side.document(text, "notes.txt")
    assert len(noise_item) > len(noise)
    assert len(text_item) < 0.7 * len(text)
    entries = {
        **good_entries(server_side),
        "good_otter/3-good_otter-doc.gz.gpg": noise_item,
        "good_otter/4-good_otter-doc.gz.gpg": text_item,
    }
    export = write_zip(workdir / "export.zip", entries)

    assert open_export(workstation_key, export, workdir / "out") == 0

    assert (workdir / "out/good_otter/documents/clip.mp4").read_bytes() == noise
    assert (workdir / "out/good_otter/documents/notes.txt").read_bytes() == text


def test_an_item_over_the_size_limit_is_refused_whatever_its_ratio(
    workstation_key: WorkstationKey,
    server_side: ServerSide,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Random bytes do not compress: only max_item_bytes (32 MiB in the test settings) stops it.
    name = "big_otter/1-big_otter-doc.gz.gpg"
    big = server_side.document(os.urandom(33 * 1024 * 1024), "big.bin")
    export = write_zip(workdir / "export.zip", {**good_entries(server_side), name: big})

    assert open_export(workstation_key, export, workdir / "out") == 1

    assert "expands past 33,554,432 bytes" in reported(capsys, name)
    assert not list((workdir / "out").rglob("big.bin"))
    assert_good_items_opened(workdir / "out")


def traversal_gzip(fname: bytes, content: bytes) -> bytes:
    """A gzip member whose FNAME header field is exactly fname (no sanitising)."""
    body = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    deflated = body.compress(content) + body.flush()
    header = b"\x1f\x8b\x08\x08" + struct.pack("<I", 0) + b"\x00\xff" + fname + b"\x00"
    return header + deflated + struct.pack("<II", zlib.crc32(content), len(content))


@pytest.mark.parametrize(
    ("fname", "expected"),
    [
        (b"../../../../tmp/escaped.sh", "escaped.sh"),
        (b"/etc/cron.d/evil", "evil"),
        (b"..\\..\\windows\\evil.bat", "evil.bat"),
        (b"..", "document"),
        (b"invoice\xe2\x80\xaegpj.exe", "invoicegpj.exe"),
        (b"\x1b[2Jclear\x9b.txt", "[2Jclear\ufffd.txt"),
        (b"\xff\xfe not utf-8.txt", "\ufffd\ufffd not utf-8.txt"),
    ],
)
def test_traversal_names_in_the_gzip_header_stay_inside(
    workstation_key: WorkstationKey,
    server_side: ServerSide,
    workdir: Path,
    fname: bytes,
    expected: str,
) -> None:
    name = "sly_otter/1-sly_otter-doc.gz.gpg"
    item = server_side.encrypt(traversal_gzip(fname, b"payload"))
    export = write_zip(workdir / "export.zip", {**good_entries(server_side), name: item})

    assert open_export(workstation_key, export, workdir / "out") == 0

    documents = workdir / "out/sly_otter/documents"
    assert [path.name for path in documents.iterdir()] == [expected]
    assert (documents / expected).read_bytes() == b"payload"
    assert not Path("/tmp/escaped.sh").exists()
    assert_good_items_opened(workdir / "out")


def test_a_truncated_gzip_inside_good_encryption_is_reported(
    workstation_key: WorkstationKey,
    server_side: ServerSide,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    whole = traversal_gzip(b"half.txt", os.urandom(64 * 1024))
    name = "cut_otter/1-cut_otter-doc.gz.gpg"
    item = server_side.encrypt(whole[: len(whole) - 100])
    export = write_zip(workdir / "export.zip", {**good_entries(server_side), name: item})

    assert open_export(workstation_key, export, workdir / "out") == 1

    assert "truncated" in reported(capsys, name)
    assert not list((workdir / "out").rglob("half.txt"))


def test_the_output_folder_must_be_new_or_empty(
    workstation_key: WorkstationKey,
    server_side: ServerSide,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    export = write_zip(workdir / "export.zip", good_entries(server_side))
    out = workdir / "out"
    out.mkdir()
    (out / "good_otter").symlink_to(workdir)

    assert open_export(workstation_key, export, out) == 1

    assert "is not empty" in capsys.readouterr().err
    assert not (workdir / "1-message.txt").exists()


def test_passphrase_is_checked_against_the_key_before_anything_opens(
    workstation_key: WorkstationKey, workdir: Path
) -> None:
    assert len(PASSPHRASE) >= 12
    export = write_zip(workdir / "export.zip", {})
    assert open_export(workstation_key, export, workdir / "out") == 0
    assert (workdir / "out/index.html").is_file()
