"""Reading a typed codename: one typo or the start of a word is forgiven, never guessed."""

from __future__ import annotations

import random

import pytest

from seethesigns.codename_reading import (
    WordNotOnList,
    WrongWordCount,
    correct_word,
    one_edit_away,
    readings,
)
from seethesigns.codenames import CODENAME_WORDLIST, OLD_WORDLIST, load_wordlist

WORDS = load_wordlist(CODENAME_WORDLIST)
OLD = load_wordlist(OLD_WORDLIST)
# Issued from the EFF large list before issue 12; "aground" and "oink" are not on the new list.
OLD_CODENAME = "aground oink sliced underfeed craftsman zebra surging"


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("zebra", "zebra"),
        ("zebr", "zebra"),  # a letter dropped, or the start of the word
        ("zebrra", "zebra"),  # a letter added
        ("xebra", "zebra"),  # a letter changed
        ("zbera", "zebra"),  # two letters swapped
        ("tige", "tiger"),
        ("umbrela", None),  # not a list word, and nothing one edit away
        ("qqqqq", None),
        ("zeb", None),  # starts "zebra" but is also one edit from "zen": not guessed
        ("ab", None),  # too short to be taken as the start of a word
    ],
)
def test_correct_word(typed: str, meant: str | None) -> None:
    assert correct_word(typed) == meant


def test_a_typo_is_never_taken_for_another_word() -> None:
    """Every one-edit typo of a sample of words reads as that word or as nothing."""
    rng = random.Random(12)
    for word in rng.sample(WORDS, 60):
        assert correct_word(word) == word
        assert {correct_word(typo) for typo in one_edit_away(word)} <= {word, None}, word


def test_a_typo_that_could_be_two_words_is_not_guessed() -> None:
    words = set(WORDS)
    typo = next(t for w in WORDS for t in one_edit_away(w) if len(one_edit_away(t) & words) > 1)
    assert typo not in words
    assert correct_word(typo) is None


def test_a_new_codename_with_typos_reads_as_itself() -> None:
    codename = "zebra tiger lemon river candy violin wagon"
    assert set(codename.split()) <= set(WORDS)
    assert readings(codename) == [codename]
    assert readings("zbera tige lemon rivr candy violinn wagon") == [codename]


def test_an_old_codename_reads_as_typed() -> None:
    assert set(OLD_CODENAME.split()) <= set(OLD)
    assert not set(OLD_CODENAME.split()) <= set(WORDS)
    assert readings(OLD_CODENAME) == [OLD_CODENAME]


def test_a_text_that_could_be_either_gets_both_readings() -> None:
    # "cable" is an EFF large word one edit from "able", which is on the new list.
    assert "cable" in OLD and "cable" not in WORDS and correct_word("cable") == "able"
    words = [w for w in OLD if w in set(WORDS)][:6]
    typed = " ".join(["cable", *words])
    assert readings(typed) == [" ".join(["able", *words]), typed]


@pytest.mark.parametrize(
    ("typed", "position"),
    [
        ("zebra tiger qqqq river candy violin wagon", 3),
        ("zebra tiger lemon river candy violin qqqq", 7),
        ("qqqq tiger lemon river zzzz violin wagon", 1),
        # On neither list as a whole: "oink" is an old word, "academy" a new one.
        ("oink tiger lemon river candy academy wagon", 1),
        ("aground oink sliced underfeed craftsman zebra qqqq", 7),
    ],
)
def test_which_word_is_not_on_the_list(typed: str, position: int) -> None:
    with pytest.raises(WordNotOnList) as raised:
        readings(typed)
    assert raised.value.position == position


@pytest.mark.parametrize("typed", ["zebra tiger lemon", "zebra " * 8, "zebra"])
def test_a_codename_has_seven_words(typed: str) -> None:
    with pytest.raises(WrongWordCount):
        readings(" ".join(typed.split()))
