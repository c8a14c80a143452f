"""Passphrases from a descriptor: one line each, in order, checked for length."""

from __future__ import annotations

import os

import pytest

from tests.workstation.conftest import passphrase_fd
from workstation.passphrases import PassphraseError, Passphrases


def test_lines_are_read_in_order_and_left_for_later_prompts() -> None:
    fd = passphrase_fd("first passphrase here", "second passphrase here")
    try:
        asked = Passphrases(fd, min_chars=12)
        assert asked.existing("key") == "first passphrase here"
        assert asked.new("backup") == "second passphrase here"
        with pytest.raises(PassphraseError, match="no passphrase left"):
            asked.existing("third")
    finally:
        os.close(fd)


def test_a_short_new_passphrase_is_refused() -> None:
    fd = passphrase_fd("short")
    try:
        with pytest.raises(PassphraseError, match="at least 12 characters"):
            Passphrases(fd, min_chars=12).new("key")
    finally:
        os.close(fd)


def test_crlf_and_unicode() -> None:
    read, write = os.pipe()
    os.write(write, "pässwörd long enough\r\n".encode())
    os.close(write)
    try:
        assert Passphrases(read, min_chars=12).existing("key") == "pässwörd long enough"
    finally:
        os.close(read)
