"""The codename word list keeps every rule of seethesigns/wordlists/README.md (issue 12)."""

from __future__ import annotations

import itertools
import math
import re
import string

import pytest

from seethesigns.codenames import CODENAME_WORDLIST, CODENAME_WORDS, WORDLISTS, load_wordlist

WORDS = load_wordlist(CODENAME_WORDLIST)
FORMS = ("", "s", "es", "ed", "er", "ing", "y")
# Issue 12 names these, all on the EFF large list that codenames came from before.
NAMED_IN_ISSUE = [
    "snitch",
    "dealer",
    "junkie",
    "coke",
    "stash",
    "handgun",
    "cartel",
    "payback",
    "threaten",
    "prison",
    "police",
    "grope",
    "groin",
]
# And these must be refused too, wherever they appear in a word.
PARTS = [
    "kill",
    "gun",
    "drug",
    "dead",
    "sex",
    "knife",
    "stab",
    "blood",
    "rape",
    "porn",
    "murder",
    "weed",
    "crack",
    "prison",
]


def denylist() -> tuple[list[str], set[str]]:
    """The parts of words (between stars) and whole words of the deny list."""
    text = (WORDLISTS / "codename_denylist.txt").read_text("utf-8")
    entries = [e for line in text.splitlines() if not line.startswith("#") for e in line.split()]
    parts = [e.strip("*") for e in entries if e.startswith("*") and e.endswith("*")]
    whole = {e for e in entries if not e.startswith("*")}
    assert len(parts) + len(whole) >= 600  # broad, not a token list
    return parts, whole


def refused(word: str, parts: list[str], whole: set[str]) -> bool:
    """True if the deny list refuses the word, as its header says."""
    if any(part in word for part in parts):
        return True
    return any(word.endswith(end) and word[: len(word) - len(end)] in whole for end in FORMS)


def one_edit_away(word: str) -> set[str]:
    """Texts one letter added, dropped or changed, or two neighbours swapped, from word."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    letters = string.ascii_lowercase
    return (
        {a + b[1:] for a, b in splits if b}
        | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        | {a + c + b[1:] for a, b in splits if b for c in letters}
        | {a + c + b for a, b in splits for c in letters}
    ) - {word}


def test_words_are_3_to_8_plain_lower_case_letters_without_duplicates() -> None:
    bad = [word for word in WORDS if not re.fullmatch(r"[a-z]{3,8}", word)]
    assert bad == []
    assert len(set(WORDS)) == len(WORDS)


def test_a_codename_carries_at_least_70_bits() -> None:
    bits = CODENAME_WORDS * math.log2(len(WORDS))
    assert len(WORDS) == 1296
    assert bits == pytest.approx(72.38, abs=0.01)
    assert bits >= 70


def test_no_word_is_on_the_deny_list() -> None:
    parts, whole = denylist()
    assert [word for word in WORDS if refused(word, parts, whole)] == []


@pytest.mark.parametrize("word", NAMED_IN_ISSUE)
def test_the_deny_list_refuses_the_words_named_in_issue_12(word: str) -> None:
    parts, whole = denylist()
    assert refused(word, parts, whole)
    assert refused(word + "s", parts, whole)


@pytest.mark.parametrize("part", PARTS)
def test_the_deny_list_refuses_words_that_contain_these(part: str) -> None:
    parts, whole = denylist()
    assert refused(f"x{part}y", parts, whole)


def test_any_two_words_are_at_least_two_edits_apart() -> None:
    known = set(WORDS)
    close = {(word, other) for word in WORDS for other in one_edit_away(word) & known}
    assert close == set()


def test_no_word_is_the_start_of_another() -> None:
    ordered = sorted(WORDS)
    # In sorted order, a word that starts another is followed by one it starts.
    clashes = [(a, b) for a, b in itertools.pairwise(ordered) if b.startswith(a)]
    assert clashes == []


def test_the_checks_themselves_can_fail() -> None:
    """The helpers above find what they look for, so a clean result means something."""
    assert "form" in one_edit_away("from") and "plant" in one_edit_away("plan")
    parts, whole = denylist()
    assert refused("begun", parts, whole) and refused("police", parts, whole)
    assert not refused("zebra", parts, whole)
