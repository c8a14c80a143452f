"""Choosing a language: Accept-Language, the switcher, the session, and every page in each."""

from __future__ import annotations

import re
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from flask.testing import FlaskClient

from seethesigns.codenames import CODENAME_WORDLIST, load_wordlist
from seethesigns.settings import Settings
from source_interface.languages import LANGUAGES
from tests.conftest import csrf_token
from tests.source_interface.test_catalogues import catalogue
from tests.source_interface.test_every_page import pages
from tests.source_interface.test_journey import CODENAME, new_source

HTML_TAG = re.compile(r'<html lang="([a-z]+)" dir="(ltr|rtl)">')


def language_of(html: str) -> tuple[str, str]:
    """The page's lang and dir attributes."""
    found = HTML_TAG.search(html)
    assert found, "no <html lang dir>"
    return found.group(1), found.group(2)


def test_english_by_default_and_for_unknown_languages(source_client: FlaskClient) -> None:
    assert language_of(source_client.get("/").get_data(as_text=True)) == ("en", "ltr")
    page = source_client.get("/", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert language_of(page.get_data(as_text=True)) == ("en", "ltr")


@pytest.mark.parametrize(
    ("header", "expected"),
    [("pl-PL,pl;q=0.9,en;q=0.5", "pl"), ("ro", "ro"), ("ar-EG,ar;q=0.8", "ar"), ("en-GB", "en")],
)
def test_accept_language_picks_the_page_language(
    source_client: FlaskClient, header: str, expected: str
) -> None:
    page = source_client.get("/", headers={"Accept-Language": header}).get_data(as_text=True)
    assert language_of(page) == (expected, "rtl" if expected == "ar" else "ltr")
    assert source_client.get_cookie("sts_source") is None  # nothing stored for a header


def test_switcher_overrides_the_header_for_the_session(source_client: FlaskClient) -> None:
    polish = {"Accept-Language": "pl"}
    page = source_client.get("/signs?l=ar", headers=polish).get_data(as_text=True)
    assert language_of(page) == ("ar", "rtl")
    # Later pages, without ?l=, keep the choice; the header no longer decides.
    page = source_client.get("/login", headers=polish).get_data(as_text=True)
    assert language_of(page) == ("ar", "rtl")
    cookie = source_client.get_cookie("sts_source")
    assert cookie is not None and cookie.expires is None
    assert "ar" not in cookie.value.lower().split("-")  # an opaque token, not the choice
    assert len(cookie.value) == 43
    source_client.get("/?l=en", headers=polish)
    assert language_of(source_client.get("/", headers=polish).get_data(as_text=True))[0] == "en"


def test_an_unknown_choice_is_ignored(source_client: FlaskClient) -> None:
    page = source_client.get("/?l=xx").get_data(as_text=True)
    assert language_of(page) == ("en", "ltr")
    assert source_client.get_cookie("sts_source") is None


def test_switcher_is_plain_links_to_this_page(source_client: FlaskClient) -> None:
    page = source_client.get("/hide-your-visit?l=ro").get_data(as_text=True)
    nav = page.split('<nav class="languages"', 1)[1].split("</nav>", 1)[0]
    links = re.findall(r'<a href="([^"]+)" lang="([a-z]+)" hreflang="\2"', nav)
    assert links == [(f"/hide-your-visit?l={code}", code) for code in LANGUAGES]
    assert nav.count('aria-current="true"') == 1
    assert 'lang="ro" hreflang="ro" aria-current="true">Română<' in nav


# Request targets as a browser sends them; gunicorn unquotes them into PATH_INFO.
HOSTILE_TARGETS = [
    "/%5Cevil.example/x",  # a backslash: browsers read "/\\evil.example" as "//evil.example"
    "/%09/evil.example/y",  # a tab: browsers drop it, leaving "//evil.example"
    "//evil.example/z",
    "/%2F%2Fevil.example/w",  # encoded slashes
    "/%5C%5Cevil.example/v",
    "/%0A/evil.example/%0D",
    "/%E2%88%95evil.example/u",  # DIVISION SLASH
    "/%EF%BC%8F%EF%BC%8Fevil.example/t",  # FULLWIDTH SOLIDUS
    "/signs/%5Cevil.example",
    "/static/%5Cevil.example/s",  # a matched route (static files), with a hostile argument
    "/create",  # a 405: a route without GET
]
SAFE_HREF = re.compile(r"/(?![/\\])[^\\\s\x00-\x1f\x7f]*")


def switcher_hrefs(html: str) -> list[str]:
    """The href of every link in the language switcher, HTML entities undone."""
    nav = html.split('<nav class="languages"', 1)[1].split("</nav>", 1)[0]
    return [href.replace("&amp;", "&") for href in re.findall(r'<a href="([^"]*)"', nav)]


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_switcher_links_stay_on_this_site_whatever_the_path(
    source_client: FlaskClient, target: str
) -> None:
    path = unquote(target).encode().decode("latin-1")  # PATH_INFO, as a WSGI server gives it
    response = source_client.get("/", environ_overrides={"PATH_INFO": path})
    assert response.status_code in (404, 405)
    hrefs = switcher_hrefs(response.get_data(as_text=True))
    assert len(hrefs) == len(LANGUAGES)
    for href in hrefs:
        assert SAFE_HREF.fullmatch(href), href
        assert "evil" not in href.lower() or href.startswith("/static/"), href
        resolved = urlsplit(urljoin("http://site.onion/here/", href))
        assert (resolved.scheme, resolved.netloc) == ("http", "site.onion"), href


def test_switcher_links_go_home_when_no_page_matched(source_client: FlaskClient) -> None:
    hrefs = switcher_hrefs(source_client.get("/no-such-page?x=1").get_data(as_text=True))
    assert hrefs == [f"/?l={code}" for code in LANGUAGES]


def test_switcher_keeps_a_page_s_own_query(source_client: FlaskClient) -> None:
    hrefs = switcher_hrefs(source_client.get("/signs?x=%2F%2Fa&l=ro").get_data(as_text=True))
    assert hrefs == [f"/signs?x=%2F%2Fa&l={code}" for code in LANGUAGES]


def test_switcher_after_a_form_points_at_a_page_that_can_be_loaded(
    source_client: FlaskClient,
) -> None:
    new_source(source_client)
    page = source_client.get("/lookup").get_data(as_text=True)
    refused = source_client.post("/submit", data={"csrf_token": csrf_token(page)})
    assert refused.status_code == 400
    assert 'href="/lookup?l=pl"' in refused.get_data(as_text=True)
    assert source_client.get("/lookup?l=pl").status_code == 200


def test_the_choice_survives_logging_in_and_out(source_client: FlaskClient) -> None:
    source_client.get("/?l=pl")
    codename = new_source(source_client)  # log_in starts a fresh session
    lookup = source_client.get("/lookup").get_data(as_text=True)
    assert language_of(lookup)[0] == "pl"
    source_client.post("/logout", data={"csrf_token": csrf_token(lookup)})
    assert source_client.get("/lookup").status_code == 302  # logged out for real
    login = source_client.get("/login").get_data(as_text=True)
    assert language_of(login)[0] == "pl"
    response = source_client.post(
        "/login", data={"csrf_token": csrf_token(login), "codename": codename}
    )
    assert response.status_code == 302


def english_sentences(language: str) -> list[str]:
    """Messages of three words or more whose translation differs from the English."""
    return [
        message.id
        for message in catalogue(language)
        if isinstance(message.id, str) and len(message.id.split()) >= 3
        if message.string != message.id and "<" not in message.id and "%" not in message.id
    ]


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_every_page_renders_in_each_language(
    source_client: FlaskClient, settings: Settings, language: str
) -> None:
    source_client.get(f"/?l={language}")
    untranslated = english_sentences(language)
    seen = []
    for name, response in pages(source_client, settings):
        html = response.get_data(as_text=True)
        assert language_of(html) == (language, "rtl" if language == "ar" else "ltr"), name
        leaked = [sentence for sentence in untranslated if sentence in html]
        assert leaked == [], (name, leaked)
        seen.append(name)
    assert len(seen) == 34


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_codenames_stay_in_the_shipped_english_word_list(
    source_client: FlaskClient, language: str
) -> None:
    words = set(load_wordlist(CODENAME_WORDLIST))
    page = source_client.get(f"/generate?l={language}").get_data(as_text=True)
    codename = CODENAME.search(page)
    assert codename is not None
    assert len(codename.group(1).split()) == 7
    assert set(codename.group(1).split()) <= words
    assert '<div lang="en" dir="ltr" translate="no"><p class="codename"' in page
