"""The deflate level of a document, chosen from its first bytes (issue 16)."""

from __future__ import annotations

import io
import os
import zipfile

import pytest

from seethesigns.compression import FAST, STORED, choose_level

TEXT = b"They make my brother carry packages to another town every Friday.\n" * 2000


def zip_of(content: bytes, method: int) -> bytes:
    """A zip archive holding content once, deflated or stored as method says."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        archive.writestr("notes.txt", content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "head",
    [
        b"\xff\xd8\xff\xe0" + TEXT,  # JPEG with a compressible start
        b"\x89PNG\r\n\x1a\n" + TEXT,
        b"GIF89a" + TEXT,
        b"\x00\x00\x00\x20ftypisom" + TEXT,  # MP4
        b"\x00\x00\x00\x18ftypheic" + TEXT,
        b"RIFF\x00\x00\x00\x00WEBPVP8 " + TEXT,
        b"\x1a\x45\xdf\xa3" + TEXT,  # WebM
        b"\x1f\x8b\x08\x00" + TEXT,  # gzip
        b"\xfd7zXZ\x00" + TEXT,
        os.urandom(1024 * 1024),
        zip_of(os.urandom(200_000), zipfile.ZIP_STORED),
    ],
)
def test_compressed_data_is_stored(head: bytes) -> None:
    assert choose_level(head) == STORED


@pytest.mark.parametrize(
    "head",
    [
        TEXT,
        bytes(1024 * 1024),
        b"RIFF\x00\x00\x00\x00WAVEfmt " + TEXT,  # a WAV is raw samples: left to the trial
        zip_of(TEXT, zipfile.ZIP_STORED),  # a zip of files kept uncompressed
        b"%PDF-1.4\n" + TEXT,
        b"",
    ],
)
def test_compressible_data_is_deflated(head: bytes) -> None:
    assert choose_level(head) == FAST


def test_the_trial_looks_only_at_the_start() -> None:
    """The first 64 KiB decide: text followed by noise is deflated, noise then text is not."""
    noise = os.urandom(512 * 1024)
    assert choose_level(TEXT[: 64 * 1024] + noise) == FAST
    assert choose_level(noise + TEXT) == STORED
