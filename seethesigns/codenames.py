"""Codenames for sources, and what the server derives from them.

A codename is seven words from a list of 1,296 plain words a child can keep on paper
(wordlists/README.md, issue 12): 7 x log2(1296) = 72.4 bits. Those issued before issue 12
came from the EFF large list (7,776 words, 90.5 bits) and still log in. Nothing stores a
codename. The server keeps only argon2id(codename, pepper 1) as the source's filesystem_id,
and uses argon2id(codename, pepper 2) as the passphrase of the source's reply key without
ever storing it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from argon2.low_level import Type, hash_secret_raw

from seethesigns.settings import Argon2Settings

CODENAME_WORDS = 7
CODENAME_WORDLIST = "codename_words.txt"
# The codenames issued before issue 12, and staff passphrases.
OLD_WORDLIST = "eff_large_wordlist.txt"
MAX_CODENAME_CHARS = 128
# How long the codename shown on /generate can still be taken with /create.
CODENAME_VALID_SECONDS = 6 * 3600
# Checked before anything else: ASCII only, so int() and hmac.compare_digest never see "²".
_ISSUED = re.compile(r"[0-9]{1,12}")
_MAC = re.compile(r"[0-9a-f]{64}")
WORDLISTS = Path(__file__).parent / "wordlists"
# Derived in place of a codename when none matched, so a failure costs what a success does.
_UNUSED_READING = "placeholder codename that no source can have"


@cache
def load_wordlist(name: str) -> tuple[str, ...]:
    """A shipped word list, one word a line."""
    text = (WORDLISTS / name).read_text("utf-8")
    words = tuple(line.strip() for line in text.splitlines() if line.strip())
    if len(set(words)) != len(words):
        raise ValueError(f"word list {name} has duplicates")
    return words


def diceware(words: int, wordlist: str = OLD_WORDLIST) -> str:
    """`words` words drawn uniformly with the secrets module, joined by spaces."""
    pool = load_wordlist(wordlist)
    return " ".join(secrets.choice(pool) for _ in range(words))


def generate_codename() -> str:
    """A fresh codename for a new source."""
    return diceware(CODENAME_WORDS, CODENAME_WORDLIST)


@dataclass(frozen=True)
class IssuedCodename:
    """A fresh codename, when it was shown, and a MAC binding the two to this server."""

    codename: str
    issued: str
    mac: str


def _codename_mac(key: bytes, codename: str, issued: str) -> str:
    message = f"codename|{issued}|{codename}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def issue_codename(key: bytes, now: float) -> IssuedCodename:
    """A new codename for /generate, MACed so /create takes only codenames this server made."""
    codename = generate_codename()
    issued = str(int(now))
    return IssuedCodename(codename, issued, _codename_mac(key, codename, issued))


def is_genuine(key: bytes, codename: str, issued: str, mac: str, now: float) -> bool:
    """True if issue_codename made this codename, issued and mac, and not too long ago."""
    if not _ISSUED.fullmatch(issued) or not _MAC.fullmatch(mac):
        return False
    if now - int(issued) > CODENAME_VALID_SECONDS:
        return False
    expected = _codename_mac(key, codename, issued).encode("ascii")
    return hmac.compare_digest(expected, mac.encode("ascii"))


def normalize_codename(text: str) -> str | None:
    """Lower-case, single-spaced form of what a source typed, or None if it cannot be one."""
    if len(text) > MAX_CODENAME_CHARS:
        return None
    cleaned = " ".join(unicodedata.normalize("NFKC", text).lower().split())
    return cleaned or None


@dataclass(frozen=True)
class SourceSecrets:
    """What a codename derives: a public-ish id and the passphrase of the reply key."""

    filesystem_id: str
    key_secret: str


class DerivationBusy(Exception):
    """Every derivation slot of this process stayed taken: ask the person to try again soon."""


class DerivationSlots:
    """At most `count` derivations at once; a caller waits up to wait_seconds for a free one.

    Issue 10: each /create and codename login costs two argon2id runs of 64 MiB, and anyone
    can ask for them; without a cap, a burst of requests takes as much memory and CPU as there
    are server threads. Per process: with several gunicorn workers, each has its own.
    """

    def __init__(self, count: int, wait_seconds: float) -> None:
        self._free = threading.BoundedSemaphore(count)
        self._wait = wait_seconds

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one slot while inside; raise DerivationBusy if none came free in time."""
        if not self._free.acquire(timeout=self._wait):
            raise DerivationBusy()
        try:
            yield
        finally:
            self._free.release()


class CodenameDeriver:
    """Derives a source's filesystem_id and key secret from a codename with argon2id."""

    def __init__(
        self,
        pepper_filesystem_id: bytes,
        pepper_key_secret: bytes,
        cost: Argon2Settings,
        slots: DerivationSlots | None = None,
    ) -> None:
        self._pepper_fs = pepper_filesystem_id
        self._pepper_key = pepper_key_secret
        self._cost = cost
        self.slots = slots or DerivationSlots(cost.max_concurrent, cost.busy_wait_seconds)

    def _argon2(self, codename: str, pepper: bytes) -> bytes:
        return hash_secret_raw(
            secret=codename.encode("utf-8"),
            salt=pepper,
            time_cost=self._cost.time_cost,
            memory_cost=self._cost.memory_cost_kib,
            parallelism=self._cost.parallelism,
            hash_len=32,
            type=Type.ID,
        )

    def _filesystem_id(self, codename: str) -> str:
        fs_raw = self._argon2(codename, self._pepper_fs)
        return base64.b32encode(fs_raw).decode("ascii").rstrip("=")

    def filesystem_id(self, codename: str) -> str:
        """Only the filesystem_id of a normalised codename: one argon2 run instead of two.

        Raises DerivationBusy when no slot comes free in time.
        """
        with self.slots.slot():
            return self._filesystem_id(codename)

    def derive_first(
        self, readings: Sequence[str], known: Callable[[str], bool]
    ) -> SourceSecrets | None:
        """The secrets of the first reading whose filesystem_id is known, or None.

        Every reading's filesystem_id and one key secret are derived whatever the outcome, so
        a wrong codename costs what a right one does (or DerivationBusy).
        """
        with self.slots.slot():
            ids = [self._filesystem_id(reading) for reading in readings]
            hits = [i for i, found in enumerate(ids) if known(found)]
            hit = hits[0] if hits else None
            key_raw = self._argon2(
                _UNUSED_READING if hit is None else readings[hit], self._pepper_key
            )
        if hit is None:
            return None
        return SourceSecrets(ids[hit], base64.b64encode(key_raw).decode("ascii"))

    def derive(self, codename: str) -> SourceSecrets:
        """Both derived values for a normalised codename, in one slot (or DerivationBusy)."""
        with self.slots.slot():
            key_raw = self._argon2(codename, self._pepper_key)
            filesystem_id = self._filesystem_id(codename)
        return SourceSecrets(
            filesystem_id=filesystem_id, key_secret=base64.b64encode(key_raw).decode("ascii")
        )


def generate_designation() -> str:
    """A staff-facing name of the form "adjective noun"."""
    adjective = secrets.choice(load_wordlist("adjectives.txt"))
    noun = secrets.choice(load_wordlist("nouns.txt"))
    return f"{adjective} {noun}"
