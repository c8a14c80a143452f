"""Uploads on their way to GnuPG: an encrypted spool, and gzip as a stream.

Werkzeug's form parser writes any upload over 500 KB to a plaintext temporary file. A
source's document must never be on disk in the clear, so the apps replace its stream
factory with EncryptedSpool: the bytes go to an unlinked temporary file under AES-256-CTR
with a key that exists only in this process's memory, and are read back, decrypted, straight
into gzip and GnuPG.
"""

from __future__ import annotations

import os
import re
import struct
import tempfile
import unicodedata
import zlib
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import IO, Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from werkzeug.exceptions import RequestEntityTooLarge

from seethesigns.compression import STORED, TRIAL_BYTES, choose_level
from seethesigns.encryption import EncryptionError, EncryptionPipe, Piece

CHUNK = 1024 * 1024
# The most a deflate stored block holds, and the empty last block that ends the stream.
STORED_BLOCK = 65535
LAST_STORED_BLOCK = b"\x01\x00\x00\xff\xff"
# C0 and C1 controls, path separators, line separators and bidi controls: "invoice\u202egpj.exe"
# would show staff "invoiceexe.jpg", and "\x9b" starts a terminal escape sequence.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f/\\\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


class UploadTooLarge(RequestEntityTooLarge):
    """One uploaded file is larger than the instance allows."""


class EncryptedSpool:
    """A write-then-read file whose bytes on disk are encrypted under a key held in memory."""

    def __init__(self, tmp_dir: Path, max_bytes: int) -> None:
        tmp_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        # An unlinked file: it has no name, and vanishes when closed or when we die.
        self._file = tempfile.TemporaryFile(dir=tmp_dir)  # noqa: SIM115 - owned by this object
        self._key = os.urandom(32)
        self._nonce = os.urandom(16)
        self._max = max_bytes
        self._size = 0
        self._pos = 0
        self._writer = self._cipher(0).encryptor()
        self._reader = self._cipher(0).decryptor()
        self.closed = False

    def _cipher(self, block: int) -> Cipher[modes.CTR]:
        counter = (int.from_bytes(self._nonce, "big") + block) % (1 << 128)
        return Cipher(algorithms.AES(self._key), modes.CTR(counter.to_bytes(16, "big")))

    def write(self, data: bytes) -> int:
        """Append data (the parser only ever appends)."""
        if self._pos != self._size:
            raise OSError("EncryptedSpool only appends")
        if self._size + len(data) > self._max:
            raise UploadTooLarge()
        self._file.write(self._writer.update(bytes(data)))
        self._size += len(data)
        self._pos = self._size
        return len(data)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """Move the read position; reading decrypts from there."""
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._size}[whence]
        target = max(0, min(self._size, base + offset))
        if target == self._size and self._pos == self._size:
            return target
        self._file.seek(target)
        self._reader = self._cipher(target // 16).decryptor()
        self._reader.update(bytes(target % 16))
        self._pos = target
        return target

    def tell(self) -> int:
        """The current position."""
        return self._pos

    def read(self, size: int = -1) -> bytes:
        """Read and decrypt up to size bytes."""
        if size is None or size < 0:
            size = self._size - self._pos
        data = self._file.read(min(size, self._size - self._pos))
        self._pos += len(data)
        return self._reader.update(data)

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        """Drop the key and the file."""
        if not self.closed:
            self._file.close()
            self._key = b""
            self.closed = True

    def __enter__(self) -> EncryptedSpool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def sanitize_filename(name: str | None) -> str:
    """A safe base name for a document: no path, no control characters, no leading dots."""
    text = unicodedata.normalize("NFC", name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = _UNSAFE.sub("", text).strip().lstrip(".").strip()
    encoded = text.encode("utf-8")[:200]
    text = encoded.decode("utf-8", errors="ignore")
    return text or "document"


class GzipStream:
    """Gzip as a push stream: feed() plaintext and get gzip bytes back; finish() ends it.

    The FNAME field carries the sanitised original name in UTF-8, so the offline viewer can
    restore it. Unless a level is given, the first TRIAL_BYTES choose it
    (seethesigns/compression.py): stored blocks for what is compressed already, a fast level
    for the rest; until then those bytes are held back.
    """

    def __init__(self, filename: str, level: int | None = None) -> None:
        self._crc = 0
        self._size = 0
        self._level = level
        self._started = False
        self._compressor: Any = None  # zlib's, unless the level is STORED
        self._held = b""
        flags = 0x08  # FNAME
        self._header = (
            b"\x1f\x8b\x08"
            + bytes([flags])
            + struct.pack("<I", 0)
            + b"\x00\xff"
            + sanitize_filename(filename).encode("utf-8")
            + b"\x00"
        )

    @property
    def level(self) -> int | None:
        """The deflate level in use, once chosen."""
        return self._level if self._started else None

    def feed(self, data: bytes) -> bytes:
        """Gzip bytes for data (maybe none yet)."""
        return b"".join(self.pieces(data))

    def pieces(self, data: bytes) -> list[Piece]:
        """Gzip bytes for data, as pieces to be written in order (maybe none yet).

        Stored blocks are data's own bytes behind a five-byte header: the pieces are views of
        data, so a writev hands them on without a copy (_stored).
        """
        self._crc = zlib.crc32(data, self._crc)
        self._size += len(data)
        if self._started:
            return [self._compressor.compress(data)] if self._compressor else _stored(data)
        self._held += data
        if self._level is None and len(self._held) < TRIAL_BYTES:
            return []
        return self._start()

    def finish(self) -> bytes:
        """The last gzip bytes: whatever was held, the end of the deflate stream, the trailer."""
        head = b"" if self._started else b"".join(self._start())
        trailer = struct.pack("<II", self._crc & 0xFFFFFFFF, self._size & 0xFFFFFFFF)
        end = bytes(self._compressor.flush()) if self._compressor else LAST_STORED_BLOCK
        return head + end + trailer

    def _start(self) -> list[Piece]:
        held, self._held = self._held, b""
        if self._level is None:
            self._level = choose_level(held)
        self._started = True
        if self._level == STORED:
            return [self._header, *_stored(held)]
        self._compressor = zlib.compressobj(self._level, zlib.DEFLATED, -zlib.MAX_WBITS)
        return [self._header + bytes(self._compressor.compress(held))]


def _stored(data: bytes) -> list[Piece]:
    """data as deflate stored blocks (RFC 1951, 3.2.4): each a header, then up to 65,535 bytes.

    zlib's level 0 copies every byte into blocks of its own: 0.84 s of a 1 GiB upload's CPU
    on this machine (issue 16), as much as the rest of the worker's work on it.
    """
    view = memoryview(data)
    out: list[Piece] = []
    for start in range(0, len(view), STORED_BLOCK):
        block = view[start : start + STORED_BLOCK]
        out += (struct.pack("<BHH", 0, len(block), len(block) ^ 0xFFFF), block)
    return out


class GzipReader:
    """Reads a source stream and yields it gzip-compressed (GzipStream), a chunk at a time.

    Only what one read() needs is ever held in memory.
    """

    def __init__(self, source: IO[bytes], filename: str, level: int | None = None) -> None:
        self._source = source
        self._gzip = GzipStream(filename, level)
        self._pending = b""
        self._done = False

    @property
    def level(self) -> int | None:
        """The deflate level in use, once the first chunk has been read."""
        return self._gzip.level

    def read(self, size: int = -1) -> bytes:
        """Up to roughly size bytes of gzip data; b"" at the end."""
        want = CHUNK if size is None or size < 0 else max(size, 1)
        while len(self._pending) < want and not self._done:
            chunk = self._source.read(CHUNK)
            if chunk:
                self._pending += self._gzip.feed(chunk)
            else:
                self._pending += self._gzip.finish()
                self._done = True
        out, self._pending = self._pending[:want], self._pending[want:]
        return out


class EncryptingUpload:
    """An uploaded file gzipped and encrypted as its bytes arrive (issue 16).

    The form parser writes each piece of the file here as it reads it from the socket; gzip
    runs in this thread and gpg in its own process (EncryptionPipe), so the two overlap and
    nothing but ciphertext, under a .partial name, ever reaches the disk. The parser's
    seek(0) at the end of the part ends the message; the submission then renames the file
    into place (Store.adopt). Closed before that, gpg is killed and the file removed, so an
    aborted request leaves nothing.
    """

    def __init__(
        self,
        pipe: EncryptionPipe,
        partial: Path,
        filename: str,
        recipients: Sequence[str],
        max_bytes: int,
    ) -> None:
        self._pipe: EncryptionPipe | None = pipe
        self._gzip = GzipStream(filename)
        self.partial = partial
        self.recipients = tuple(recipients)
        self._max = max_bytes
        self._size = 0
        self._failure: EncryptionError | None = None
        self._checksum = ""
        self.closed = False

    def write(self, data: bytes) -> int:
        """Compress and encrypt the next piece of the file."""
        if self._pipe is None:
            raise OSError("the upload has ended")
        self._size += len(data)
        if self._size > self._max:
            raise UploadTooLarge()
        self._pipe.write(self._gzip.pieces(bytes(data)))
        return len(data)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """The parser's rewind at the end of the part: end the gzip member and the message."""
        if (offset, whence) != (0, os.SEEK_SET):
            raise OSError("an upload encrypted as it arrives cannot seek")
        if self._pipe is not None:
            pipe, self._pipe = self._pipe, None
            pipe.write([self._gzip.finish()])
            try:
                self._checksum = pipe.finish()
            except EncryptionError as exc:  # raised by ciphertext(), where the view expects it
                self._failure = exc
        return 0

    def tell(self) -> int:
        """How many bytes of the file have arrived."""
        return self._size

    def read(self, size: int = -1) -> bytes:
        """Nothing: only ciphertext is kept, and the server cannot decrypt it."""
        raise OSError("an upload encrypted as it arrives cannot be read back")

    def ciphertext(self, recipients: Sequence[str]) -> tuple[Path, str]:
        """The complete encrypted file and its checksum, if encrypted to exactly recipients."""
        if self._pipe is not None or self.closed:
            raise EncryptionError("the upload did not arrive completely")
        if self._failure is not None:
            raise self._failure
        if tuple(recipients) != self.recipients:
            raise EncryptionError("the recipient keys changed while the upload arrived")
        return self.partial, self._checksum

    def close(self) -> None:
        """Stop gpg if it is still running and remove whatever was not stored."""
        if self.closed:
            return
        self.closed = True
        if self._pipe is not None:
            self._pipe.abort()
            self._pipe = None
        self.partial.unlink(missing_ok=True)  # gone already once stored under its name
        # A source's first upload made its folder; if it was cut off, leave no empty folder
        # (its time would say when). A folder with anything in it stays (OSError).
        with suppress(OSError):
            self.partial.parent.rmdir()
