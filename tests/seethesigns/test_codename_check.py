"""Typing back two words of a new codename (issue 12)."""

from __future__ import annotations

import hashlib
from itertools import combinations

from seethesigns.codename_check import check_positions, typed_back
from seethesigns.codename_reading import correct_word, one_edit_away
from seethesigns.codenames import generate_codename


def macs(count: int) -> list[str]:
    """count MAC-shaped strings (64 hex digits), spread like real ones."""
    return [hashlib.sha256(str(i).encode()).hexdigest() for i in range(count)]


def test_two_different_positions_in_order_and_always_the_same_for_a_mac() -> None:
    for mac in macs(500):
        first, second = check_positions(mac)
        assert 1 <= first < second <= 7
        assert check_positions(mac) == (first, second)


def test_every_pair_of_words_can_be_asked() -> None:
    asked = {check_positions(mac) for mac in macs(2000)}
    assert asked == set(combinations(range(1, 8), 2))


def distinct_codename() -> str:
    """A new codename with no word twice, so that a swapped or other pair is really wrong.

    Words are drawn independently, so about one codename in 370 repeats one; then "delay
    delay" swapped is still right, and CI once failed on it.
    """
    codename = generate_codename()
    while len(set(codename.split(" "))) < len(codename.split(" ")):
        codename = generate_codename()
    return codename


def test_the_asked_words_are_accepted_and_others_refused() -> None:
    codename = distinct_codename()
    words = codename.split(" ")
    for mac in macs(30):
        first, second = check_positions(mac)
        right = (words[first - 1], words[second - 1])
        assert typed_back(codename, mac, *right)
        assert not typed_back(codename, mac, right[1], right[0])  # swapped
        assert not typed_back(codename, mac, right[0], "")
        assert not typed_back(codename, mac, "", right[1])
        others = [w for i, w in enumerate(words, 1) if i not in (first, second)]
        assert not typed_back(codename, mac, others[0], others[1])


def test_capitals_spaces_and_one_typo_are_forgiven() -> None:
    codename = generate_codename()
    words = codename.split(" ")
    mac = macs(1)[0]
    first, second = check_positions(mac)
    one, two = words[first - 1], words[second - 1]
    # A typo that reads back as that word alone (some are one edit from two words).
    typo = next(w for w in sorted(one_edit_away(two)) if w != two and correct_word(w) == two)
    assert typed_back(codename, mac, f"  {one.upper()} ", typo)


def test_a_codename_of_the_wrong_length_is_never_matched() -> None:
    mac = macs(1)[0]
    assert not typed_back("", mac, "", "")
    assert not typed_back("one two", mac, "one", "two")
