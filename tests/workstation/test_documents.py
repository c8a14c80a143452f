"""Gunzipping a decrypted document within the limits, with the name from its header."""

from __future__ import annotations

import gzip
import io
import os
from collections.abc import Callable

import pytest

from workstation.documents import inflate, read_header
from workstation.problems import Damaged, DecompressionBomb


def gzipped(content: bytes, name: str | None = "report.pdf", **extra: bytes) -> bytes:
    """Real gzip from Python's gzip module; FEXTRA and FCOMMENT spliced in when asked."""
    buffer = io.BytesIO()
    with gzip.GzipFile(name or "", "wb", fileobj=buffer, mtime=0) as handle:
        handle.write(content)
    data = buffer.getvalue()
    if "comment" in extra:  # set FCOMMENT and put the comment after the name
        end = data.index(b"\x00", 10) + 1 if name else 10
        data = (
            data[:3]
            + bytes([data[3] | 0x10])
            + data[4:end]
            + extra["comment"]
            + b"\x00"
            + data[end:]
        )
    if "field" in extra:  # set FEXTRA and put the field right after the fixed header
        field = extra["field"]
        data = (
            data[:3]
            + bytes([data[3] | 0x04])
            + data[4:10]
            + len(field).to_bytes(2, "little")
            + field
            + data[10:]
        )
    return data


def unpack(data: bytes, limit: int = 10**9) -> tuple[bytes | None, bytes]:
    """(FNAME, content) of gzip data, through the workstation's reader."""
    source, target = io.BytesIO(data), io.BytesIO()
    name = read_header(source)
    size = inflate(source, target, limit)
    assert size == len(target.getvalue())
    return name, target.getvalue()


def test_name_and_content_come_back_exactly() -> None:
    content = os.urandom(3 * 1024 * 1024)
    assert unpack(gzipped(content, "résumé.pdf")) == ("résumé.pdf".encode("latin-1"), content)


def test_optional_header_fields_are_skipped() -> None:
    data = gzipped(b"hello", "a.txt", comment=b"a comment", field=b"XY\x02\x00ab")
    assert unpack(data) == (b"a.txt", b"hello")


def test_a_document_with_no_name() -> None:
    assert unpack(gzipped(b"hello", None)) == (None, b"hello")


def test_the_limit_is_enforced_while_inflating() -> None:
    data = gzipped(bytes(8 * 1024 * 1024))
    assert len(data) < 64 * 1024
    target = io.BytesIO()
    source = io.BytesIO(data)
    read_header(source)
    with pytest.raises(DecompressionBomb, match="expands past 1,048,576 bytes"):
        inflate(source, target, 1024 * 1024)
    # Never more than one step past the limit was ever held or written.
    assert len(target.getvalue()) <= 1024 * 1024


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: data[:-4], "trailer is missing"),
        (lambda data: data[: len(data) // 2], "stops before its end"),
        (lambda data: data[:12], "ends inside its gzip header"),
        (lambda data: data[:-8] + b"\x00\x00\x00\x00" + data[-4:], "checksum does not match"),
        (lambda data: data + b"trailing", "unexpected data after"),
        (lambda data: data + data, "unexpected data after"),
        (lambda data: data[:3] + b"\x00" + data[4:10] + b"\xff" * 40, "corrupt"),
        (lambda data: b"PK\x03\x04" + data[4:], "not gzip"),
    ],
)
def test_damage_is_reported(damage: Callable[[bytes], bytes], message: str) -> None:
    data = damage(gzipped(os.urandom(4096)))
    with pytest.raises(Damaged, match=message):
        unpack(data)
