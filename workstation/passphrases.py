"""Asking for passphrases: at the terminal with getpass, or line by line from a descriptor.

`--passphrase-fd N` works like gpg's option of the same name, for scripts and tests: each
passphrase the command needs is read as one line from N, in the order the prompts would
appear, and a new passphrase is not asked for twice.
"""

from __future__ import annotations

import getpass
import os
from typing import BinaryIO


class PassphraseError(Exception):
    """No usable passphrase was given."""


class Passphrases:
    """Where this command's passphrases come from."""

    def __init__(self, fd: int | None, min_chars: int) -> None:
        self._min_chars = min_chars
        self._stream: BinaryIO | None = None
        if fd is not None:
            try:
                self._stream = os.fdopen(fd, "rb", buffering=0, closefd=False)
            except OSError as exc:
                raise PassphraseError(f"cannot read passphrases from fd {fd}: {exc}") from None

    def _line(self, prompt: str) -> str:
        assert self._stream is not None
        line = bytearray()
        # One byte at a time, so a later prompt's line stays in the descriptor for it.
        while (byte := self._stream.read(1)) and byte != b"\n":
            line += byte
        if not line and not byte:
            raise PassphraseError(f"no passphrase left on the descriptor for: {prompt}")
        return line.decode("utf-8").removesuffix("\r")

    def existing(self, prompt: str) -> str:
        """A passphrase that already exists (it is checked by whatever uses it)."""
        text = self._line(prompt) if self._stream else getpass.getpass(f"{prompt}: ")
        if not text:
            raise PassphraseError("the passphrase is empty")
        return text

    def new(self, prompt: str) -> str:
        """A new passphrase: long enough, and typed the same way twice at a terminal."""
        if self._stream:
            text = self._line(prompt)
        else:
            text = getpass.getpass(f"{prompt}: ")
            if getpass.getpass("Type it again: ") != text:
                raise PassphraseError("the two passphrases are different; nothing was changed")
        if len(text) < self._min_chars:
            raise PassphraseError(
                f"a passphrase must have at least {self._min_chars} characters; use several "
                "random words (diceware)"
            )
        return text
