"""The source pages' translations: every catalogue complete, checked and compiled."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from source_interface.languages import LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = ROOT / "source_interface" / "translations"
TAG = re.compile(r"</?[a-z]+")
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s")


def catalogue(language: str) -> Catalog:
    """A language's messages.po."""
    with (CATALOGUES / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


def extracted() -> set[str | tuple[str, ...]]:
    """The messages the templates and code use now, extracted as `make translations` does.

    A message with plural forms (ngettext) is its (singular, plural) pair, as catalogues key it.
    """
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found = extract_from_dir(str(ROOT), method_map, options_map)
    return {m if isinstance(m, str) else tuple(m) for _, _, m, _, _ in found}


@pytest.fixture(scope="module")
def in_use() -> set[str | tuple[str, ...]]:
    messages = extracted()
    assert len(messages) > 100  # the extraction found the templates
    return messages


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_catalogue_has_every_message_and_nothing_stale(
    language: str, in_use: set[str | tuple[str, ...]]
) -> None:
    messages = {message.id for message in catalogue(language) if message.id}
    assert sorted(in_use - messages) == [], "run `make translations` and translate"
    assert sorted(messages - in_use) == [], "run `make translations` to drop old messages"


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_every_message_is_translated_and_checked(language: str) -> None:
    found = catalogue(language)
    for message in found:
        if not message.id:
            continue
        assert not message.fuzzy, f"fuzzy in {language}: {message.id!r}"
        if isinstance(message.id, str):
            assert isinstance(message.string, str)
            forms, source, exact = [message.string], message.id, True
        else:
            # Plural forms: each language has its own number of them, and a form for one
            # ("a day", Arabic's "two days") may leave the number out.
            assert isinstance(message.string, tuple)
            assert len(message.string) == found.num_plurals, (language, message.id)
            forms, source, exact = list(message.string), message.id[1], False
        for form in forms:
            assert form.strip(), f"untranslated in {language}: {message.id!r}"
            # The same placeholders and the same HTML tags, so nothing is lost or injected.
            placeholders = sorted(PLACEHOLDER.findall(form))
            expected = sorted(PLACEHOLDER.findall(source))
            if exact:
                assert placeholders == expected, (language, message.id)
            else:
                assert set(placeholders) <= set(expected), (language, message.id)
            tags = [tag for tag in TAG.findall(form) if tag not in ("<span", "</span")]
            assert sorted(tags) == sorted(TAG.findall(source)), (language, message.id)
    assert list(found.check()) == []  # python-format and the like


def test_english_is_the_templates_own_text() -> None:
    messages = [message for message in catalogue("en") if message.id]
    assert messages
    for message in messages:
        assert message.string == message.id


def _key(text: object) -> object:
    """A message's id or string, with plural forms as a tuple (a .mo file gives a list)."""
    return tuple(text) if isinstance(text, list | tuple) else text


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_compiled_catalogue_matches_its_source(language: str) -> None:
    folder = CATALOGUES / language / "LC_MESSAGES"
    with (folder / "messages.mo").open("rb") as handle:
        compiled = {_key(m.id): _key(m.string) for m in read_mo(handle) if m.id}
    source = {_key(m.id): _key(m.string) for m in catalogue(language) if m.id}
    assert compiled == source, "run `make translations` to compile the catalogues"
