"""`open --clean-metadata` with Debian's mat2 on real files (installed by make system-packages)."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from tests.workstation.conftest import (
    PASSPHRASE,
    ServerSide,
    WorkstationKey,
    open_export,
    write_zip,
)

SCRIPT = Path(sys.executable).parent / "seethesigns-workstation"
AUTHOR = b"Jamie Example, Flat 3, 12 Mill Road"


def chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk with its CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with_author() -> bytes:
    """A real 2x2 RGB PNG whose tEXt chunk names its author."""
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2)))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"tEXt", b"Author\x00" + AUTHOR)
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


def test_metadata_is_removed_and_the_original_kept_alongside(
    workstation_key: WorkstationKey,
    server_side: ServerSide,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    original = png_with_author()
    entries = {
        "shy_otter/1-shy_otter-doc.gz.gpg": server_side.document(original, "photo.png"),
        "shy_otter/2-shy_otter-doc.gz.gpg": server_side.document(b"data", "notes.xyz"),
    }
    export = write_zip(workdir / "export.zip", entries)

    assert open_export(workstation_key, export, workdir / "out", "--clean-metadata") == 0

    documents = workdir / "out/shy_otter/documents"
    assert sorted(path.name for path in documents.iterdir()) == [
        "notes.xyz",
        "photo.ORIGINAL-with-metadata.png",
        "photo.png",
    ]
    assert (documents / "photo.ORIGINAL-with-metadata.png").read_bytes() == original
    cleaned = (documents / "photo.png").read_bytes()
    assert cleaned.startswith(b"\x89PNG") and AUTHOR not in cleaned
    assert (documents / "notes.xyz").read_bytes() == b"data"
    output = capsys.readouterr().out
    assert "metadata removed with mat2" in output
    assert "metadata not removed: mat2 does not support this format" in output
    page = (workdir / "out/shy_otter/index.html").read_text()
    assert "Original, with its metadata" in page
    assert not [path for path in (workdir / "out").iterdir() if path.name.startswith(".")]


def test_without_the_option_nothing_is_changed(
    workstation_key: WorkstationKey, server_side: ServerSide, workdir: Path
) -> None:
    original = png_with_author()
    entries = {"shy_otter/1-shy_otter-doc.gz.gpg": server_side.document(original, "photo.png")}
    export = write_zip(workdir / "export.zip", entries)
    assert open_export(workstation_key, export, workdir / "out") == 0
    documents = workdir / "out/shy_otter/documents"
    assert [path.name for path in documents.iterdir()] == ["photo.png"]
    assert (documents / "photo.png").read_bytes() == original


def test_without_mat2_the_option_fails_clearly_before_decrypting(
    workstation_key: WorkstationKey, server_side: ServerSide, workdir: Path
) -> None:
    # A PATH with GnuPG but no mat2, as on a workstation where it was never installed.
    bin_dir = workdir / "bin"
    bin_dir.mkdir()
    for tool in ("gpg", "gpgconf"):
        found = shutil.which(tool)
        assert found
        (bin_dir / tool).symlink_to(found)
    entries = {"shy_otter/1-shy_otter-doc.gz.gpg": server_side.document(b"x", "photo.png")}
    export = write_zip(workdir / "export.zip", entries)
    run = subprocess.run(
        [str(SCRIPT), "--config", str(workstation_key.config), "open", str(export),
         "--out", str(workdir / "out"), "--homedir", str(workstation_key.homedir),
         "--clean-metadata", "--passphrase-fd", "0"],
        input=PASSPHRASE + "\n",
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": str(bin_dir)},
    )  # fmt: skip
    assert run.returncode == 1
    assert "--clean-metadata needs mat2" in run.stderr and "apt-get install mat2" in run.stderr
    assert not (workdir / "out").exists()
