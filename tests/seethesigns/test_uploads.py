"""Uploads on their way to GnuPG: the encrypted spool, gzip as a stream, safe file names."""

from __future__ import annotations

import gzip
import io
import os
import stat
from pathlib import Path

import pytest

from seethesigns.compression import STORED, TRIAL_BYTES
from seethesigns.uploads import (
    EncryptedSpool,
    GzipReader,
    GzipStream,
    UploadTooLarge,
    sanitize_filename,
)

MARKER = b"SECRET-PLAINTEXT-MARKER-"


def open_fds() -> dict[int, str]:
    """This process's open descriptors and what they point at.

    Listing /proc/self/fd opens a descriptor of its own, closed again by the time we look at
    it; readlink drops it, so it is not mistaken for an older descriptor.
    """
    found = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            found[int(name)] = os.readlink(f"/proc/self/fd/{name}")
        except FileNotFoundError:
            continue
    return found


def new_spool_fd(before: dict[int, str], tmp_dir: Path) -> int:
    """The one descriptor opened since `before` that is a regular file in tmp_dir."""
    found = [
        fd
        for fd, target in open_fds().items()
        if before.get(fd) != target
        and target.startswith(f"{tmp_dir}/")
        and stat.S_ISREG(os.fstat(fd).st_mode)
    ]
    assert len(found) == 1, found
    return found[0]


def on_disk(fd: int) -> bytes:
    """Everything in the file behind fd, read without moving its offset."""
    return os.pread(fd, os.fstat(fd).st_size + 1, 0)


def sample(size: int) -> bytes:
    """Compressible but not trivial content with the plaintext marker throughout."""
    line = MARKER + os.urandom(8).hex().encode() + b"\n"
    return (line * (size // len(line) + 1))[:size]


def test_round_trip_of_several_megabytes_in_chunks(tmp_path: Path) -> None:
    data = sample(5 * 1024 * 1024 + 123)
    with EncryptedSpool(tmp_path, max_bytes=len(data)) as spool:
        for start in range(0, len(data), 65_537):
            assert spool.write(data[start : start + 65_537]) == len(data[start : start + 65_537])
        assert spool.seek(0) == 0
        out = b"".join(iter(lambda: spool.read(100_003), b""))
    assert out == data


@pytest.mark.parametrize("offset", [0, 1, 15, 16, 17, 4095, 1_000_001, 2 * 1024 * 1024 - 1])
def test_random_access(tmp_path: Path, offset: int) -> None:
    data = os.urandom(2 * 1024 * 1024)
    with EncryptedSpool(tmp_path, max_bytes=len(data)) as spool:
        spool.write(data)
        assert spool.seek(offset) == offset
        assert spool.tell() == offset
        assert spool.read(1000) == data[offset : offset + 1000]
        assert spool.tell() == min(len(data), offset + 1000)
        spool.seek(-10, os.SEEK_END)
        assert spool.read() == data[-10:]
        spool.seek(offset)
        spool.seek(3, os.SEEK_CUR)
        assert spool.read(5) == data[offset + 3 : offset + 8]


def test_bytes_on_disk_are_not_the_plaintext(tmp_path: Path) -> None:
    data = sample(1024 * 1024)
    before = open_fds()
    with EncryptedSpool(tmp_path, max_bytes=len(data)) as spool:
        fd = new_spool_fd(before, tmp_path)
        spool.write(data)
        spool.flush()
        stored = on_disk(fd)
        assert len(stored) == len(data)
        assert MARKER not in stored
        assert stored != data
        spool.seek(0)
        assert spool.read() == data


def test_spool_file_has_no_name(tmp_path: Path) -> None:
    before = open_fds()
    with EncryptedSpool(tmp_path, max_bytes=10) as spool:
        fd = new_spool_fd(before, tmp_path)
        spool.write(b"x")
        assert os.fstat(fd).st_nlink == 0
        assert list(tmp_path.iterdir()) == []
    assert spool.closed


def test_two_spools_use_different_keys(tmp_path: Path) -> None:
    data = b"\x00" * 4096
    before = open_fds()
    with EncryptedSpool(tmp_path, max_bytes=len(data)) as first:
        first_fd = new_spool_fd(before, tmp_path)
        before = open_fds()
        with EncryptedSpool(tmp_path, max_bytes=len(data)) as second:
            second_fd = new_spool_fd(before, tmp_path)
            first.write(data)
            second.write(data)
            first.flush()
            second.flush()
            assert on_disk(first_fd) != on_disk(second_fd)


def test_upload_too_large(tmp_path: Path) -> None:
    with EncryptedSpool(tmp_path, max_bytes=100) as spool:
        spool.write(b"a" * 60)
        spool.write(b"a" * 40)
        with pytest.raises(UploadTooLarge):
            spool.write(b"a")
        assert UploadTooLarge.code == 413


def test_spool_only_appends(tmp_path: Path) -> None:
    with EncryptedSpool(tmp_path, max_bytes=100) as spool:
        spool.write(b"abcdef")
        spool.seek(2)
        with pytest.raises(OSError, match="only appends"):
            spool.write(b"x")


def gzip_of(data: bytes, name: str, read_size: int = -1) -> bytes:
    reader = GzipReader(io.BytesIO(data), name)
    return b"".join(iter(lambda: reader.read(read_size), b""))


def fname(gzipped: bytes) -> str:
    """The FNAME field of a gzip header (RFC 1952, 2.3.1)."""
    assert gzipped[:3] == b"\x1f\x8b\x08"
    assert gzipped[3] & 0x08, "FNAME flag not set"
    assert gzipped[3] & 0x04 == 0, "FEXTRA would come before FNAME"
    end = gzipped.index(b"\x00", 10)
    return gzipped[10:end].decode("utf-8")


@pytest.mark.parametrize(
    ("size", "read_size"),
    [(2_500_000, -1), (5000, 1), (2_500_000, 7919), (2_500_000, 1024 * 1024), (100, 10**7)],
)
def test_gzip_reader_output_decompresses_to_the_input(size: int, read_size: int) -> None:
    data = (sample(size // 2) + os.urandom(size))[:size]
    assert gzip.decompress(gzip_of(data, "report.pdf", read_size)) == data


def test_gzip_reader_of_empty_input() -> None:
    gzipped = gzip_of(b"", "empty.txt")
    assert gzip.decompress(gzipped) == b""
    assert fname(gzipped) == "empty.txt"


def test_gzip_reader_carries_the_sanitised_name() -> None:
    gzipped = gzip_of(b"hello", "../../secret/Фото 1.jpg")
    assert fname(gzipped) == "Фото 1.jpg"
    with gzip.GzipFile(fileobj=io.BytesIO(gzipped)) as handle:
        assert handle.read() == b"hello"


def test_gzip_reader_reads_the_source_in_bounded_chunks() -> None:
    class Counting(io.BytesIO):
        largest = 0

        def read(self, size: int | None = -1) -> bytes:
            assert size is not None and size > 0, "the whole stream was asked for"
            Counting.largest = max(Counting.largest, size)
            return super().read(size)

    reader = GzipReader(Counting(os.urandom(3 * 1024 * 1024)), "x")
    first = reader.read(1024)
    assert len(first) == 1024
    assert Counting.largest <= 1024 * 1024


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\x", "x"),
        ("/etc/shadow", "shadow"),
        ("C:\\Users\\me\\photo.jpg", "photo.jpg"),
        ("a\x00b\nc\x1fd\x7fe.txt", "abcde.txt"),
        ("report\x85\x9b31m.txt", "report31m.txt"),  # C1 controls: NEL, CSI
        ("invoice\u202egpj.exe", "invoicegpj.exe"),  # would show staff "invoiceexe.jpg"
        ("a\u2066b\u2069c\u200fd\u061ce.txt", "abcde.txt"),  # other bidi controls
        ("one\u2028two\u2029.txt", "onetwo.txt"),  # line and paragraph separators
        ("", "document"),
        (None, "document"),
        ("..", "document"),
        ("...", "document"),
        ("/", "document"),
        ("dir/", "document"),
        (".hidden", "hidden"),
        ("  spaced name.txt  ", "spaced name.txt"),
        ("e\u0301t\u00e9.txt", "\u00e9t\u00e9.txt"),  # NFC
    ],
)
def test_sanitize_filename(name: str | None, expected: str) -> None:
    assert sanitize_filename(name) == expected


def test_long_utf8_name_is_cut_on_a_character_boundary() -> None:
    name = "é" * 150 + ".txt"  # 304 bytes
    cleaned = sanitize_filename(name)
    encoded = cleaned.encode("utf-8")
    assert len(encoded) <= 200
    assert cleaned == "é" * 100
    assert encoded.decode("utf-8") == cleaned


def test_long_name_of_four_byte_characters() -> None:
    cleaned = sanitize_filename("😀" * 100)
    assert cleaned == "😀" * 50
    assert len(cleaned.encode("utf-8")) == 200


@pytest.mark.parametrize("size", [0, 1, 65_534, 65_535, 65_536, 3 * 65_535, 16 * 65_535 + 1])
@pytest.mark.parametrize("piece", [1000, 65_535, 1024 * 1024])
def test_stored_blocks_decompress_to_the_input(size: int, piece: int) -> None:
    data = os.urandom(size)
    stream = GzipStream("photo.jpg", level=STORED)
    parts = [stream.feed(data[start : start + piece]) for start in range(0, size, piece)]
    gzipped = b"".join(parts) + stream.finish()
    assert gzip.decompress(gzipped) == data
    assert fname(gzipped) == "photo.jpg"
    # Each piece is cut into blocks of at most 65,535 bytes, each behind a five-byte header;
    # the stream ends with an empty last block and the trailer.
    blocks = sum(-(-len(data[start : start + piece]) // 65_535) for start in range(0, size, piece))
    assert len(gzipped) == 10 + len(b"photo.jpg\x00") + 5 * blocks + size + 5 + 8


def test_stored_blocks_are_views_of_the_bytes_that_arrived() -> None:
    stream = GzipStream("video.mp4", level=STORED)
    head = stream.pieces(b"\x00" * 10)
    data = os.urandom(200_000)
    pieces = stream.pieces(data)
    assert head[0].startswith(b"\x1f\x8b")
    headers, blocks = pieces[0::2], pieces[1::2]
    assert all(isinstance(block, memoryview) and block.obj is data for block in blocks)
    assert [len(header) for header in headers] == [5, 5, 5, 5]
    assert b"".join(blocks) == data


def test_a_stream_that_chose_stored_blocks_says_so() -> None:
    data = b"\x1a\x45\xdf\xa3" + os.urandom(TRIAL_BYTES)  # WebM: compressed already
    stream = GzipStream("clip.webm")
    first = stream.feed(data[:100])
    assert (first, stream.level) == (b"", None)  # held back until the trial has its bytes
    rest = stream.feed(data[100:])
    assert stream.level == STORED
    assert gzip.decompress(first + rest + stream.finish()) == data
