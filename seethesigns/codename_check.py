"""Asking a new source to type back two words of their codename (issue 12).

The server keeps no codename, so it cannot remind anyone of theirs. Before a source is
created, /generate asks for two of its words, which proves they have kept it somewhere. The
two positions come from the MAC that /generate already binds to the codename, so the server
needs no state to know which words it asked for, and each codename is always asked the same
way (re-showing the page after a wrong answer asks for the same two words).
"""

from __future__ import annotations

import hmac

from seethesigns.codename_reading import correct_word
from seethesigns.codenames import CODENAME_WORDS

# The form fields holding the two typed words.
FIRST_FIELD = "word_a"
SECOND_FIELD = "word_b"


def check_positions(mac: str) -> tuple[int, int]:
    """Two different word positions (counting from 1, in order) chosen by the codename's MAC."""
    seed = int(mac[:16], 16) if mac[:16] else 0
    first = seed % CODENAME_WORDS
    second = (first + 1 + (seed // CODENAME_WORDS) % (CODENAME_WORDS - 1)) % CODENAME_WORDS
    low, high = sorted((first, second))
    return low + 1, high + 1


def _as_word(typed: str) -> str:
    """The list word a typed answer names (forgiving one typo), or the typed text itself."""
    cleaned = " ".join(typed.split()).lower()[:64]
    return correct_word(cleaned) or cleaned


def _same(expected: str, typed: str) -> bool:
    # Constant time: the answer is part of a secret.
    return hmac.compare_digest(expected.encode(), _as_word(typed).encode())


def typed_back(codename: str, mac: str, first: str, second: str) -> bool:
    """True if first and second are the codename's words at check_positions(mac)."""
    words = codename.split(" ")
    if len(words) != CODENAME_WORDS:
        return False
    one, two = check_positions(mac)
    # Both compared every time, so a wrong first word takes as long as a wrong second.
    first_ok = _same(words[one - 1], first)
    second_ok = _same(words[two - 1], second)
    return first_ok and second_ok
