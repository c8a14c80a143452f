"""The check that a client-encrypted reply is public-key ciphertext and nothing else."""

from __future__ import annotations

import base64
import io
import secrets

import gnupg
import pytest

from seethesigns.pgp_packets import (
    BEGIN,
    END,
    STREAM_CHUNK,
    NotAnEncryptedMessage,
    _crc24,
    check_encrypted_stream,
    dearmor,
    parse_encrypted_message,
)
from tests.conftest import OfflineKey
from tests.journalist_interface.api.conftest import client_encrypt


def armor(data: bytes, *, headers: str = "", crc: bool = True) -> str:
    """ASCII armor as gpg writes it."""
    body = base64.b64encode(data).decode()
    lines = [
        BEGIN,
        *([headers] if headers else []),
        "",
        *(body[i : i + 64] for i in range(0, len(body), 64)),
    ]
    if crc:
        lines.append("=" + base64.b64encode(_crc24(data).to_bytes(3, "big")).decode())
    return "\n".join([*lines, END]) + "\n"


def subkey_id(key: OfflineKey) -> str:
    """The long id of the test submission key's encryption subkey."""
    listed = gnupg.GPG(gnupghome=str(key.homedir)).list_keys(keys=key.fingerprint)
    return str(listed[0]["subkeys"][0][0])


def pkesk(key_id: bytes = b"\x11" * 8) -> bytes:
    """An old-format public-key session key packet (body content beyond the id is opaque)."""
    body = b"\x03" + key_id + b"\x12" + b"\x00" * 20
    return bytes([0x84, len(body)]) + body


def new_packet(tag: int, body: bytes) -> bytes:
    """A new-format packet with a one-octet length."""
    return bytes([0xC0 | tag, len(body)]) + body


def test_a_message_gpg_encrypted_to_a_key_names_that_key(offline_key: OfflineKey) -> None:
    armored = client_encrypt("hello", offline_key.public_key)
    found = parse_encrypted_message(armored)
    assert found.recipient_key_ids == {subkey_id(offline_key)}
    assert found.data == dearmor(armored)
    assert gnupg.GPG(gnupghome=str(offline_key.homedir)).decrypt(found.data).data == b"hello"


def test_a_long_message_with_partial_body_lengths_is_accepted(offline_key: OfflineKey) -> None:
    armored = client_encrypt(secrets.token_urlsafe(300_000), offline_key.public_key)
    data = dearmor(armored)
    # The packet after the session key uses a partial length: gpg streamed it.
    first_length = data[2 + data[1] + 1]
    assert 224 <= first_length < 255
    assert parse_encrypted_message(armored).recipient_key_ids == {subkey_id(offline_key)}


def test_without_a_checksum_line_and_with_armor_headers_it_is_accepted(
    offline_key: OfflineKey,
) -> None:
    data = dearmor(client_encrypt("hi", offline_key.public_key))
    assert parse_encrypted_message(armor(data, crc=False)).data == data
    assert parse_encrypted_message(armor(data, headers="Comment: made by a client")).data == data


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Please call me.", "not an armored PGP MESSAGE block"),
        (f"{BEGIN}\nPlease call me.\n{END}", "no blank line"),
        (f"{BEGIN}\nnot a header\n\nAAAA\n{END}", "malformed header"),
        (f"{BEGIN}\n\n!!!!\n{END}", "not valid base64"),
        (
            "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nhi\n",
            "not an armored PGP MESSAGE block",
        ),
    ],
)
def test_text_that_is_not_an_armored_message_is_refused(text: str, reason: str) -> None:
    with pytest.raises(NotAnEncryptedMessage, match=reason):
        parse_encrypted_message(text)


def test_a_wrong_checksum_is_refused(offline_key: OfflineKey) -> None:
    lines = client_encrypt("hi", offline_key.public_key).strip().splitlines()
    lines[-2] = "=AAAA"
    with pytest.raises(NotAnEncryptedMessage, match="checksum"):
        parse_encrypted_message("\n".join(lines))


def test_a_truncated_message_is_refused(offline_key: OfflineKey) -> None:
    data = dearmor(client_encrypt("hello", offline_key.public_key))
    with pytest.raises(NotAnEncryptedMessage, match="cut short"):
        parse_encrypted_message(armor(data[:-10]))


def test_a_packet_appended_after_the_ciphertext_is_refused(offline_key: OfflineKey) -> None:
    data = dearmor(client_encrypt("hello", offline_key.public_key))
    literal = new_packet(11, b"b\x00\x00\x00\x00\x00plaintext after the ciphertext")
    with pytest.raises(NotAnEncryptedMessage, match="no public-key encrypted data"):
        parse_encrypted_message(armor(data + literal))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (new_packet(11, b"b\x00\x00\x00\x00\x00hello"), "no public-key encrypted data"),
        (pkesk(), "no public-key encrypted data"),
        (
            new_packet(3, b"\x04\x09\x03\x02" + b"\x00" * 9)
            + new_packet(18, b"\x01" + b"\x00" * 30),
            "tag 3",
        ),
        (pkesk() + new_packet(9, b"\x00" * 30), "no public-key encrypted data"),
        (
            new_packet(1, b"\x06" + b"\x00" * 40) + new_packet(18, b"\x01" + b"\x00" * 30),
            "unsupported",
        ),
        (pkesk() + new_packet(18, b""), "empty"),
        (b"\x00\x01\x02", "not an OpenPGP packet"),
        (pkesk() + bytes([0xD2, 0xE1]) + b"\x00" * 2, "cut short"),
        (pkesk() + bytes([0xC1, 0xE1]) + b"\x00" * 2, "partial length on a packet"),
    ],
    ids=[
        "literal",
        "session-key-only",
        "symmetric-session-key",
        "no-integrity-protection",
        "v6-session-key",
        "empty-data",
        "not-packets",
        "partial-cut-short",
        "partial-on-session-key",
    ],
)
def test_packet_sequences_other_than_session_keys_then_ciphertext_are_refused(
    data: bytes, reason: str
) -> None:
    with pytest.raises(NotAnEncryptedMessage, match=reason):
        parse_encrypted_message(armor(data))


def test_synthetic_framing_that_is_right_is_accepted() -> None:
    # Two recipients, then data with a two-octet length: framing alone is what is checked.
    data = pkesk(b"\x01" * 8) + pkesk(b"\x02" * 8) + bytes([0xD2, 0xC0, 0x00]) + b"\x01" * 192
    found = parse_encrypted_message(armor(data))
    assert found.recipient_key_ids == {"0101010101010101", "0202020202020202"}


KEY_ID = bytes.fromhex("0123456789ABCDEF")
PKESK = b"\xc1\x0c\x03" + KEY_ID + b"\x12\x00\x01"  # new format, 12 bytes: v3, key id, algo, MPI


class ChunkedOnly(io.BytesIO):
    """A stream that fails the test if asked for more than one chunk at a time."""

    def read(self, size: int | None = -1, /) -> bytes:
        assert size is not None and 0 <= size <= STREAM_CHUNK, size
        return super().read(size)


def partial_seipd(parts: int) -> bytes:
    """A SEIPD packet of `parts` partial 1 MiB parts (length octet 0xF4) and a 5-byte end."""
    return b"\xd2" + (b"\xf4" + bytes(1 << 20)) * parts + b"\x05" + b"\x01" * 5


def test_a_stream_with_partial_lengths_is_read_a_chunk_at_a_time() -> None:
    stream = ChunkedOnly(PKESK + partial_seipd(3))
    assert check_encrypted_stream(stream) == frozenset({"0123456789ABCDEF"})


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (PKESK + partial_seipd(2)[:-1], "cut short"),
        (PKESK + partial_seipd(1) + PKESK, "more data after"),
        (PKESK, "holds no encrypted data"),
        (partial_seipd(1), "no public-key encrypted session key"),
        (b"\xc1\xe0" + PKESK[2:] + partial_seipd(1), "partial length on a packet"),
        (PKESK + b"\xcb\x05b\x00abc" + partial_seipd(1), r"unexpected packet \(tag 11\)"),
        (PKESK + b"\xd2\x00", "the encrypted data packet is empty"),
        (b"", "empty"),
    ],
    ids=["truncated", "trailing", "no-data", "no-pkesk", "partial-pkesk", "literal", "empty-data",
         "nothing"],
)  # fmt: skip
def test_malformed_streams_are_refused(data: bytes, expected: str) -> None:
    with pytest.raises(NotAnEncryptedMessage, match=expected):
        check_encrypted_stream(io.BytesIO(data))
