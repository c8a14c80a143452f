"""Codenames: enough entropy, and what the server derives from them."""

from __future__ import annotations

import base64
import math
import re
import threading
import time
from dataclasses import replace

import pytest

from seethesigns.codenames import (
    CODENAME_VALID_SECONDS,
    CODENAME_WORDLIST,
    CODENAME_WORDS,
    MAX_CODENAME_CHARS,
    CodenameDeriver,
    DerivationBusy,
    DerivationSlots,
    generate_codename,
    generate_designation,
    is_genuine,
    issue_codename,
    load_wordlist,
    normalize_codename,
)
from tests.conftest import CHEAP_ARGON2

PEPPER_1 = bytes(range(32))
PEPPER_2 = bytes(range(32, 64))


@pytest.fixture
def deriver() -> CodenameDeriver:
    """A deriver with fixed peppers and the cheap argon2 cost of the tests."""
    return CodenameDeriver(PEPPER_1, PEPPER_2, CHEAP_ARGON2)


def test_codename_is_seven_words_from_the_codename_list() -> None:
    words = load_wordlist(CODENAME_WORDLIST)
    assert len(set(words)) == len(words) == 1296
    assert CODENAME_WORDS * math.log2(len(words)) >= 72
    codename = generate_codename()
    assert len(codename.split(" ")) == 7
    assert all(word in words for word in codename.split(" "))


def test_codenames_differ() -> None:
    assert generate_codename() != generate_codename()


def test_codename_survives_normalisation() -> None:
    codename = generate_codename()
    assert normalize_codename(codename) == codename
    assert len(codename) <= MAX_CODENAME_CHARS


def test_derivation_is_deterministic(deriver: CodenameDeriver) -> None:
    assert deriver.derive("alpha bravo charlie") == deriver.derive("alpha bravo charlie")
    assert deriver.derive("alpha bravo charlie") != deriver.derive("alpha bravo charliE")


def test_derived_values_differ_from_each_other_and_the_codename(deriver: CodenameDeriver) -> None:
    codename = generate_codename()
    derived = deriver.derive(codename)
    assert derived.filesystem_id != derived.key_secret
    assert codename not in (derived.filesystem_id, derived.key_secret)
    assert base64.b64decode(derived.key_secret) != base64.b32decode(derived.filesystem_id + "====")


def test_derive_first_finds_the_first_known_reading(deriver: CodenameDeriver) -> None:
    wanted = deriver.derive("beta")
    found = deriver.derive_first(["alpha", "beta"], lambda fs_id: fs_id == wanted.filesystem_id)
    assert found == wanted
    assert deriver.derive_first(["alpha", "beta"], lambda fs_id: False) is None


def test_derive_first_derives_every_reading_whatever_it_finds(deriver: CodenameDeriver) -> None:
    """A right codename costs what a wrong one does: every id is asked about."""
    asked: list[str] = []
    first = deriver.derive("alpha").filesystem_id
    deriver.derive_first(["alpha", "beta"], lambda fs_id: asked.append(fs_id) or fs_id == first)
    assert asked == [first, deriver.derive("beta").filesystem_id]


def test_filesystem_id_is_upper_case_base32(deriver: CodenameDeriver) -> None:
    filesystem_id = deriver.derive(generate_codename()).filesystem_id
    assert re.fullmatch(r"[A-Z2-7]{52}", filesystem_id)
    assert len(base64.b32decode(filesystem_id + "====")) == 32


def test_key_secret_carries_256_bits(deriver: CodenameDeriver) -> None:
    assert len(base64.b64decode(deriver.derive("x").key_secret)) == 32


def test_different_peppers_give_different_ids() -> None:
    codename = generate_codename()
    first = CodenameDeriver(PEPPER_1, PEPPER_2, CHEAP_ARGON2).derive(codename)
    second = CodenameDeriver(PEPPER_2, PEPPER_1, CHEAP_ARGON2).derive(codename)
    assert first.filesystem_id != second.filesystem_id
    assert first.key_secret != second.key_secret


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Alpha BRAVO charlie", "alpha bravo charlie"),
        ("  alpha   bravo\tcharlie \n", "alpha bravo charlie"),
        ("\uff41\uff4c\uff50\uff48\uff41 bravo", "alpha bravo"),  # full-width letters
        ("alpha\u00a0bravo", "alpha bravo"),  # no-break space
        ("", None),
        ("   \t ", None),
        ("a" * (MAX_CODENAME_CHARS + 1), None),
    ],
)
def test_normalize_codename(typed: str, expected: str | None) -> None:
    assert normalize_codename(typed) == expected


def test_normalize_accepts_the_longest_allowed_input() -> None:
    assert normalize_codename("a" * MAX_CODENAME_CHARS) == "a" * MAX_CODENAME_CHARS


def test_designation_is_adjective_then_noun() -> None:
    adjective, noun = generate_designation().split(" ")
    assert adjective in load_wordlist("adjectives.txt")
    assert noun in load_wordlist("nouns.txt")


KEY = bytes(range(64, 96))
NOW = 1_700_000_000.0


def test_an_issued_codename_is_genuine_until_it_expires() -> None:
    issued = issue_codename(KEY, NOW)
    assert issued.issued == "1700000000" and re.fullmatch(r"[0-9a-f]{64}", issued.mac)
    parts = (issued.codename, issued.issued, issued.mac)
    assert is_genuine(KEY, *parts, NOW + CODENAME_VALID_SECONDS)
    assert not is_genuine(KEY, *parts, NOW + CODENAME_VALID_SECONDS + 1)
    assert not is_genuine(bytes(32), *parts, NOW)  # another server's key
    assert not is_genuine(KEY, "a a a a a a a", issued.issued, issued.mac, NOW)
    assert not is_genuine(KEY, issued.codename, str(NOW - 1), issued.mac, NOW)
    assert not is_genuine(KEY, issued.codename, issued.issued, issued.mac.upper(), NOW)


@pytest.mark.parametrize(
    ("issued", "mac"),
    [
        ("\u00b2", "0" * 64),
        ("\u0661\u0667\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660", "0" * 64),
        ("9" * 5000, "0" * 64),
        (" 1700000000", "0" * 64),
        ("1700000000", "\u00e9" * 64),
        ("1700000000", "\uff10" * 64),
        ("1700000000", "0" * 63),
    ],
)
def test_a_malformed_issued_time_or_mac_is_simply_not_genuine(issued: str, mac: str) -> None:
    """Issue 10: these raised ValueError or TypeError (a 500 on /create)."""
    assert not is_genuine(KEY, generate_codename(), issued, mac, NOW)


# Issue 10: every /create and codename login costs two argon2id runs at 64 MiB; a cap on how
# many run at once in a process bounds the memory and CPU that anyone can make the server use.


def test_a_derivation_gives_up_when_every_slot_stays_taken() -> None:
    slots = DerivationSlots(1, wait_seconds=0.2)
    deriver = CodenameDeriver(PEPPER_1, PEPPER_2, CHEAP_ARGON2, slots)
    with slots.slot():
        start = time.monotonic()
        with pytest.raises(DerivationBusy):
            deriver.derive(generate_codename())
        assert time.monotonic() - start >= 0.2  # it waited that long for a slot
        with pytest.raises(DerivationBusy):
            deriver.filesystem_id(generate_codename())
    # Free again, and a slot is given back after each derivation.
    for _ in range(3):
        deriver.derive(generate_codename())


def test_a_derivation_waits_for_a_slot_that_comes_free() -> None:
    slots = DerivationSlots(1, wait_seconds=10)
    deriver = CodenameDeriver(PEPPER_1, PEPPER_2, CHEAP_ARGON2, slots)
    results: list[object] = []
    with slots.slot():
        waiter = threading.Thread(target=lambda: results.append(deriver.derive("a b c d e f g")))
        waiter.start()
        time.sleep(0.2)
        assert results == []  # still waiting
    waiter.join(timeout=10)
    assert results == [deriver.derive("a b c d e f g")]


def test_slots_count_concurrent_derivations() -> None:
    slots = DerivationSlots(2, wait_seconds=0)
    with slots.slot(), slots.slot(), pytest.raises(DerivationBusy), slots.slot():
        pass
    with slots.slot(), slots.slot():
        pass


def test_the_deriver_takes_its_slots_from_the_argon2_settings() -> None:
    cost = replace(CHEAP_ARGON2, max_concurrent=1, busy_wait_seconds=0)
    deriver = CodenameDeriver(PEPPER_1, PEPPER_2, cost)
    with deriver.slots.slot(), pytest.raises(DerivationBusy):
        deriver.derive(generate_codename())
