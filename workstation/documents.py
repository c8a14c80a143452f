"""Gunzipping a decrypted document: its name from the header, its bytes within the limits.

The server gzips each document with the sanitised original name in the FNAME field
(RFC 1952). Python's gzip module would drop that name and decompress without bound, so the
header is read here and the body inflated in bounded steps, checking CRC and length.
"""

from __future__ import annotations

import struct
import zlib
from typing import BinaryIO

from workstation.problems import Damaged, bomb

CHUNK = 1024 * 1024
MAX_HEADER_FIELD = 64 * 1024
FTEXT, FHCRC, FEXTRA, FNAME, FCOMMENT = 1, 2, 4, 8, 16


def _read_exact(source: BinaryIO, size: int) -> bytes:
    data = source.read(size)
    if len(data) != size:
        raise Damaged("truncated: the document ends inside its gzip header")
    return data


def _read_zero_terminated(source: BinaryIO) -> bytes:
    field = bytearray()
    while (byte := _read_exact(source, 1)) != b"\x00":
        field += byte
        if len(field) > MAX_HEADER_FIELD:
            raise Damaged("damaged: a gzip header field has no end")
    return bytes(field)


def read_header(source: BinaryIO) -> bytes | None:
    """Read a gzip member header; return its FNAME bytes (None if it has none)."""
    fixed = source.read(10)
    if len(fixed) < 10 or fixed[:2] != b"\x1f\x8b":
        raise Damaged("damaged: decrypted, but the document inside is not gzip data")
    if fixed[2] != 8:
        raise Damaged("damaged: the document is gzip with an unknown compression method")
    flags = fixed[3]
    if flags & FEXTRA:
        (length,) = struct.unpack("<H", _read_exact(source, 2))
        _read_exact(source, length)
    name = _read_zero_terminated(source) if flags & FNAME else None
    if flags & FCOMMENT:
        _read_zero_terminated(source)
    if flags & FHCRC:
        _read_exact(source, 2)
    return name


def inflate(source: BinaryIO, target: BinaryIO, limit: int) -> int:
    """Inflate the body that follows read_header() into target; return the size written.

    Raises DecompressionBomb past limit bytes, Damaged for a truncated stream, a bad CRC
    or length, or anything after the end of the document.
    """
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    crc = size = 0
    while not inflater.eof:
        chunk = source.read(CHUNK)
        if not chunk:
            raise Damaged("truncated: the document's gzip data stops before its end")
        while chunk and not inflater.eof:
            try:
                # Never more than one step past the limit, however small the input.
                data = inflater.decompress(chunk, CHUNK)
            except zlib.error as exc:
                raise Damaged(f"damaged: the document's gzip data is corrupt ({exc})") from None
            chunk = inflater.unconsumed_tail
            size += len(data)
            if size > limit:
                raise bomb("the gzip document", limit)
            crc = zlib.crc32(data, crc)
            target.write(data)
    trailer = inflater.unused_data
    if len(trailer) < 8:
        trailer += source.read(8 - len(trailer))
    if len(trailer) < 8:
        raise Damaged("truncated: the document's gzip trailer is missing")
    expected_crc, expected_size = struct.unpack("<II", trailer[:8])
    if expected_crc != crc or expected_size != size & 0xFFFFFFFF:
        raise Damaged("damaged: the document's gzip checksum does not match its contents")
    if trailer[8:] or source.read(1):
        raise Damaged("damaged: unexpected data after the end of the document")
    return size
