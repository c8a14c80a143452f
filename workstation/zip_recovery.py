"""Reading what is left of an export whose download was cut short.

The staff interface streams its zip, so each entry's sizes and CRC follow its data in a data
descriptor and the index (the central directory) comes last. A download cut short loses
that index, and zipfile then refuses the whole file. Here the local headers are walked
instead: every complete entry before the cut is recovered, checked against its CRC, and the
entry the cut fell in is reported by name.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from workstation.problems import CorruptEntry

LOCAL_HEADER = b"PK\x03\x04"
DESCRIPTOR = b"PK\x07\x08"
CHUNK = 1024 * 1024
USES_DESCRIPTOR = 0x08
UTF8_NAME = 0x800
ZIP64_EXTRA = 0x0001


@dataclass
class Recovered:
    """The entries found by walking local headers, and the one the file ends in, if any."""

    infos: list[zipfile.ZipInfo] = field(default_factory=list)
    cut: tuple[str, CorruptEntry] | None = None


def _zip64_sizes(extra: bytes) -> tuple[int, int] | None:
    while len(extra) >= 4:
        kind, size = struct.unpack("<HH", extra[:4])
        if kind == ZIP64_EXTRA and size >= 16:
            usize, csize = struct.unpack("<QQ", extra[4:20])
            return csize, usize
        extra = extra[4 + size :]
    return None


def _find_descriptor(handle: BinaryIO, start: int) -> tuple[int, int, int] | None:
    """(CRC, size, descriptor length) of stored data from start, or None if it never ends.

    A descriptor counts only where its size is the distance from start and its CRC matches
    the bytes before it, so "PK\\x07\\x08" inside the ciphertext cannot fool it. The CRC is
    carried forward from one signature to the next, never taken again from the start: that
    made a file full of signatures quadratic (8 s for 512 KiB, 45 minutes for 100 MB).
    """
    handle.seek(start)
    crc, consumed, held = 0, 0, b""  # crc: of the data before held
    while chunk := handle.read(CHUNK):
        buffer = held + chunk
        view = memoryview(buffer)
        keep_from = max(0, len(buffer) - 23)  # a descriptor may straddle two reads
        done, running = 0, crc  # running: the CRC of the data before buffer[done]
        index = buffer.find(DESCRIPTOR)
        while index != -1:
            if index + 16 > len(buffer):
                keep_from = min(keep_from, index)
                break
            stored_crc, small = struct.unpack("<II", view[index + 4 : index + 12])
            large = struct.unpack("<Q", view[index + 8 : index + 16])[0]
            fits = (
                small == consumed + index,
                index + 24 <= len(buffer) and large == consumed + index,
            )
            if any(fits):
                # Carried up to keep_from at most: the bytes after it are read again next time.
                upto = min(index, keep_from)
                running, done = zlib.crc32(view[done:upto], running), upto
                if stored_crc == zlib.crc32(view[done:index], running):
                    return stored_crc, consumed + index, 16 if fits[0] else 24
            index = buffer.find(DESCRIPTOR, index + 1)
        crc = zlib.crc32(view[done:keep_from], running)
        consumed += keep_from
        held = buffer[keep_from:]
    return None


def recover(path: Path) -> Recovered:
    """Walk the local headers of a zip from the start for as long as they are whole."""
    found = Recovered()
    with path.open("rb") as handle:
        offset = 0
        while True:
            handle.seek(offset)
            fixed = handle.read(30)
            if len(fixed) < 30 or fixed[:4] != LOCAL_HEADER:
                return found
            (_, flags, method, _, _, crc, csize, usize, name_len, extra_len) = struct.unpack(
                "<HHHHHIIIHH", fixed[4:]
            )
            raw_name = handle.read(name_len)
            extra = handle.read(extra_len)
            name = raw_name.decode("utf-8" if flags & UTF8_NAME else "cp437", errors="replace")
            data_start = offset + 30 + name_len + extra_len
            sizes = _zip64_sizes(extra) if 0xFFFFFFFF in (csize, usize) else None
            if sizes:
                csize, usize = sizes
            descriptor = 0
            if flags & USES_DESCRIPTOR:
                if method != zipfile.ZIP_STORED:
                    found.cut = (name, CorruptEntry("cannot be recovered from a cut-short zip"))
                    return found
                ended = _find_descriptor(handle, data_start)
                if ended is None:
                    found.cut = (name, CorruptEntry("cut short: the download ends inside it"))
                    return found
                crc, csize, descriptor = ended
                usize = csize
            if handle.seek(0, 2) < data_start + csize + descriptor:
                found.cut = (name, CorruptEntry("cut short: the download ends inside it"))
                return found
            info = zipfile.ZipInfo(name)
            info.flag_bits, info.compress_type, info.CRC = flags, method, crc
            info.compress_size, info.file_size, info.header_offset = csize, usize, data_start
            found.infos.append(info)
            offset = data_start + csize + descriptor


class RecoveredStream:
    """One recovered entry's bytes, inflated if need be, checked against its CRC at the end."""

    def __init__(self, path: Path, info: zipfile.ZipInfo) -> None:
        self._handle = path.open("rb")
        self._handle.seek(info.header_offset)
        self._left = info.compress_size
        self._info = info
        self._crc = 0
        self._inflater = (
            zlib.decompressobj(-zlib.MAX_WBITS)
            if info.compress_type == zipfile.ZIP_DEFLATED
            else None
        )
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            self._handle.close()
            raise CorruptEntry("uses a compression method no export uses")

    def _take(self, size: int) -> bytes:
        raw = self._handle.read(min(size, self._left))
        if self._left > 0 and not raw:
            raise CorruptEntry("damaged in the zip: it ends early")
        self._left -= len(raw)
        return raw

    def _inflate(self, size: int) -> bytes:
        assert self._inflater is not None
        raw = self._inflater.unconsumed_tail or self._take(size)
        if not raw:
            if not self._inflater.eof:
                raise CorruptEntry("damaged in the zip: its compressed data stops early")
            return b""
        try:
            return self._inflater.decompress(raw, size)
        except zlib.error as exc:
            raise CorruptEntry(f"damaged in the zip: {exc}") from None

    def read(self, size: int = -1) -> bytes:
        """Up to size bytes; b"" at the end, once the CRC has been checked."""
        want = CHUNK if size is None or size < 0 else max(size, 1)
        data = self._inflate(want) if self._inflater else self._take(want)
        while not data and self._inflater and (self._left or self._inflater.unconsumed_tail):
            data = self._inflate(want)  # a step that produced no output yet
        self._crc = zlib.crc32(data, self._crc)
        if not data and self._crc != self._info.CRC:
            raise CorruptEntry("damaged in the zip: its CRC does not match")
        return data

    def close(self) -> None:
        """Close the file."""
        self._handle.close()
