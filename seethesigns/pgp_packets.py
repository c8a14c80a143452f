"""Checking that text is an armored OpenPGP message encrypted to public keys, without keys.

The Journalist API accepts replies that the client has already encrypted. Such a reply is stored
as it is, so the server must be sure it is ciphertext and nothing else: a client bug that
sent plaintext would otherwise leave a young person's conversation readable on the server's
disk. gpg cannot tell us this on its own (`--list-packets` happily lists a truncated message or
one with a literal packet appended), so the armor and the packet framing are checked here, by
the rules of RFC 4880 sections 4.2 and 6. Share packages (issue 14) are checked the same
way, as binary streams: check_encrypted_stream never holds a whole packet body.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Protocol

BEGIN = "-----BEGIN PGP MESSAGE-----"
END = "-----END PGP MESSAGE-----"
TAG_PKESK = 1  # public-key encrypted session key
TAG_SEIPD = 18  # symmetrically encrypted and integrity-protected data
TAG_AEAD = 20  # AEAD encrypted data (GnuPG 2.3+ with an AEAD-capable key)
# Symmetrically encrypted data without integrity protection (tag 9) is refused: GnuPG will not
# decrypt it, so the source could never read it.
DATA_TAGS = frozenset({TAG_SEIPD, TAG_AEAD})
KEY_ID_HEX = 16


class Readable(Protocol):
    """A binary stream: a file, a zip member."""

    def read(self, size: int = ..., /) -> bytes: ...


class NotAnEncryptedMessage(Exception):
    """The text is not an armored OpenPGP message encrypted to one or more public keys."""


@dataclass(frozen=True)
class EncryptedMessage:
    """A well-formed public-key encrypted message: its bytes and the key ids it is for."""

    data: bytes
    recipient_key_ids: frozenset[str]


def _crc24(data: bytes) -> int:
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def dearmor(text: str) -> bytes:
    """The bytes inside one ASCII-armored PGP MESSAGE block, with its checksum verified."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    if len(lines) < 3 or lines[0] != BEGIN or lines[-1] != END:
        raise NotAnEncryptedMessage("not an armored PGP MESSAGE block")
    try:
        blank = lines.index("")
    except ValueError:
        raise NotAnEncryptedMessage("the armor has no blank line before its data") from None
    if any(": " not in header for header in lines[1:blank]):
        raise NotAnEncryptedMessage("the armor has a malformed header line")
    body = lines[blank + 1 : -1]
    checksum = None
    if body and body[-1].startswith("="):
        checksum = body.pop()[1:]
    try:
        data = base64.b64decode("".join(body), validate=True)
        expected = base64.b64decode(checksum, validate=True) if checksum is not None else None
    except binascii.Error:
        raise NotAnEncryptedMessage("the armor is not valid base64") from None
    if expected is not None and int.from_bytes(expected, "big") != _crc24(data):
        raise NotAnEncryptedMessage("the armor checksum does not match")
    return data


def _length(data: bytes, at: int, *, allow_partial: bool) -> tuple[int, int, bool]:
    """Decode a new-format body length at `at`: (length, header size, is partial)."""
    if at >= len(data):
        raise NotAnEncryptedMessage("a packet header is cut short")
    first = data[at]
    if first < 192:
        return first, 1, False
    if first < 224:
        if at + 1 >= len(data):
            raise NotAnEncryptedMessage("a packet header is cut short")
        return ((first - 192) << 8) + data[at + 1] + 192, 2, False
    if first == 255:
        if at + 5 > len(data):
            raise NotAnEncryptedMessage("a packet header is cut short")
        return int.from_bytes(data[at + 1 : at + 5], "big"), 5, False
    if not allow_partial:
        raise NotAnEncryptedMessage("a partial length on a packet that cannot have one")
    return 1 << (first & 0x1F), 1, True


def _packets(data: bytes) -> list[tuple[int, bytes]]:
    """Split data into (tag, body) packets; every byte must belong to exactly one packet."""
    found: list[tuple[int, bytes]] = []
    at = 0
    while at < len(data):
        ctb = data[at]
        if not ctb & 0x80:
            raise NotAnEncryptedMessage("not an OpenPGP packet")
        at += 1
        if ctb & 0x40:  # new format
            tag = ctb & 0x3F
            body = b""
            while True:
                size, header, partial = _length(data, at, allow_partial=tag in DATA_TAGS)
                at += header
                if at + size > len(data):
                    raise NotAnEncryptedMessage("a packet is cut short")
                body += data[at : at + size]
                at += size
                if not partial:
                    break
        else:  # old format
            tag, kind = (ctb >> 2) & 0x0F, ctb & 0x03
            if kind == 3:  # indeterminate: runs to the end
                size, header = len(data) - at, 0
            else:
                header = 1 << kind
                if at + header > len(data):
                    raise NotAnEncryptedMessage("a packet header is cut short")
                size = int.from_bytes(data[at : at + header], "big")
            at += header
            if at + size > len(data):
                raise NotAnEncryptedMessage("a packet is cut short")
            body = data[at : at + size]
            at += size
        found.append((tag, body))
    return found


def parse_encrypted_message(text: str) -> EncryptedMessage:
    """Check that text is one or more session-key packets and one encrypted data packet."""
    data = dearmor(text)
    packets = _packets(data)
    if len(packets) < 2 or packets[-1][0] not in DATA_TAGS:
        raise NotAnEncryptedMessage("the message holds no public-key encrypted data")
    key_ids = set()
    for tag, body in packets[:-1]:
        if tag != TAG_PKESK:
            raise NotAnEncryptedMessage(f"unexpected packet (tag {tag}) in an encrypted message")
        if len(body) < 10 or body[0] != 3:
            raise NotAnEncryptedMessage("unsupported public-key session key packet")
        key_ids.add(body[1:9].hex().upper())
    if not packets[-1][1]:
        raise NotAnEncryptedMessage("the encrypted data packet is empty")
    return EncryptedMessage(data, frozenset(key_ids))


def leading_recipient_key_ids(head: bytes) -> frozenset[str]:
    """The key ids in the session-key packets at the start of a binary OpenPGP message.

    Reads packet headers only, from the first bytes of a stored file: the session-key
    packets come first and are small, so a few KB hold them all. Parsing stops at the first
    other packet (the encrypted data) or where head is cut off.
    """
    key_ids: set[str] = set()
    at = 0
    while at < len(head):
        ctb = head[at]
        if not ctb & 0x80:
            break
        if ctb & 0x40:
            tag = ctb & 0x3F
            try:
                size, header, _partial = _length(head, at + 1, allow_partial=False)
            except NotAnEncryptedMessage:
                break
        else:
            tag, kind = (ctb >> 2) & 0x0F, ctb & 0x03
            if kind == 3:
                break
            header = 1 << kind
            if at + 1 + header > len(head):
                break
            size = int.from_bytes(head[at + 1 : at + 1 + header], "big")
        if tag != TAG_PKESK:
            break
        start = at + 1 + header
        body = head[start : start + size]
        if len(body) < size or len(body) < 9 or body[0] != 3:
            break
        key_ids.add(body[1:9].hex().upper())
        at = start + size
    return frozenset(key_ids)


# Streaming: a shared package's items may be hundreds of MB, so bodies are skipped in chunks.
STREAM_CHUNK = 1024 * 1024
# A session-key packet holds one encrypted session key: about 600 bytes for RSA-4096.
MAX_PKESK_BYTES = 64 * 1024


def _read_exact(stream: Readable, size: int, what: str) -> bytes:
    data = b""
    while len(data) < size:  # a stream may return fewer bytes than asked for
        more = stream.read(size - len(data))
        if not more:
            raise NotAnEncryptedMessage(f"{what} is cut short")
        data += more
    return data


def _stream_length(stream: Readable, *, allow_partial: bool) -> tuple[int, bool]:
    """Read a new-format body length from stream, with `_length`'s rules: (length, partial)."""
    first = _read_exact(stream, 1, "a packet header")
    if first[0] in range(192, 224):
        first += _read_exact(stream, 1, "a packet header")
    elif first[0] == 255:
        first += _read_exact(stream, 4, "a packet header")
    size, _header, partial = _length(first, 0, allow_partial=allow_partial)
    return size, partial


def _skip(stream: Readable, size: int) -> None:
    """Read past size bytes of a body, a chunk at a time; never hold the body."""
    while size:
        data = stream.read(min(size, STREAM_CHUNK))
        if not data:
            raise NotAnEncryptedMessage("the encrypted data packet is cut short")
        size -= len(data)


def _pkesk_key_id(body: bytes) -> str:
    if len(body) < 10 or body[0] != 3:
        raise NotAnEncryptedMessage("unsupported public-key session key packet")
    return body[1:9].hex().upper()


def check_encrypted_stream(stream: Readable) -> frozenset[str]:
    """Check a binary OpenPGP message as a stream; return the key ids it is encrypted to.

    The message must be one or more version 3 public-key session-key packets, then exactly
    one encrypted data packet (SEIPD or AEAD) that runs to the end of the stream: every byte
    belongs to a packet, and nothing (a literal packet with plaintext, a signature) follows.
    Memory stays flat whatever the size: the data packet's body is read and dropped.
    """
    key_ids: set[str] = set()
    while True:
        ctb = stream.read(1)
        if not ctb:
            raise NotAnEncryptedMessage(
                "the message holds no encrypted data"
                if key_ids
                else "the message is empty or holds no public-key encrypted session key"
            )
        if not ctb[0] & 0x80:
            raise NotAnEncryptedMessage("not an OpenPGP packet (is it armored, or not OpenPGP?)")
        if ctb[0] & 0x40:  # new format
            tag = ctb[0] & 0x3F
            size, partial = _stream_length(stream, allow_partial=tag in DATA_TAGS)
        else:  # old format: tags 0-15 only, so never SEIPD or AEAD
            tag, kind = (ctb[0] >> 2) & 0x0F, ctb[0] & 0x03
            if kind == 3:
                raise NotAnEncryptedMessage(f"unexpected packet (tag {tag}) of unknown length")
            size = int.from_bytes(_read_exact(stream, 1 << kind, "a packet header"), "big")
            partial = False
        if tag == TAG_PKESK:
            if size > MAX_PKESK_BYTES:
                raise NotAnEncryptedMessage("a public-key session key packet is too large")
            key_ids.add(_pkesk_key_id(_read_exact(stream, size, "a session key packet")))
            continue
        if tag not in DATA_TAGS:
            raise NotAnEncryptedMessage(f"unexpected packet (tag {tag}) in an encrypted message")
        if not key_ids:
            raise NotAnEncryptedMessage("the message holds no public-key encrypted session key")
        _data_body(stream, size, partial)
        if stream.read(1):
            raise NotAnEncryptedMessage("there is more data after the encrypted data packet")
        return frozenset(key_ids)


def _data_body(stream: Readable, size: int, partial: bool) -> None:
    """Skip the data packet's body, following its partial lengths to the last part."""
    total = size
    _skip(stream, size)
    while partial:
        size, partial = _stream_length(stream, allow_partial=True)
        total += size
        _skip(stream, size)
    if not total:
        raise NotAnEncryptedMessage("the encrypted data packet is empty")
