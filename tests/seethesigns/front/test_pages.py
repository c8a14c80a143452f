"""The pages nginx answers with itself, in every language of the source pages."""

from __future__ import annotations

import re

from seethesigns.front.pages import too_large_page, unavailable_page
from seethesigns.instance_settings import Disguise


def sections(page: str) -> dict[str, str]:
    """Each language's part of a page, by language code."""
    return dict(re.findall(r'<section lang="(\w+)" dir="\w+">(.*?)</section>', page))


def test_the_too_large_page_names_the_limit_in_every_language() -> None:
    page = too_large_page(2 * 1024**3)
    parts = sections(page)
    assert set(parts) == {"en", "pl", "ro", "ar"}
    assert "That file is too big" in parts["en"] and "up to 2 GB in all" in parts["en"]
    assert "Ten plik jest za duży" in parts["pl"] and "2 GB" in parts["pl"]
    assert "2 غيغابايت" in parts["ar"]  # Arabic spells the unit out, as the app does
    assert '<section lang="ar" dir="rtl">' in page
    assert "500 MB" in sections(too_large_page(500 * 1024**2))["en"]


def test_the_unavailable_page_asks_to_try_again() -> None:
    parts = sections(unavailable_page())
    assert "it may not have reached us, so please send it again" in parts["en"]
    assert "trimite-l din nou" in parts["ro"]


def test_both_pages_keep_the_quick_exit() -> None:
    for page in (too_large_page(1024**3), unavailable_page()):
        # nginx's pages cannot read an admin's choice: they wear the defaults.
        assert (
            f'<a class="exit every-language" href="{Disguise().exit_url}" rel="noreferrer">' in page
        )
        assert "<title>Notes</title>" in page
        assert 'lang="pl" dir="ltr">Opuść tę stronę</span>' in page
