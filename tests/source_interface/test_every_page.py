"""Every page of the source interface: no JavaScript, nothing from elsewhere, safe headers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from seethesigns.models.base import utcnow
from seethesigns.settings import Settings
from source_interface.session_state import WAITING_SINCE
from tests.conftest import create_form, csrf_token, remove_submission_key
from tests.source_interface.test_journey import new_source
from tests.source_interface.test_replies_and_leaving import reply_to_only_source

RESOURCE = re.compile(r"<(?:link|img|script|iframe|object|embed|source|video|audio)\b[^>]*>", re.I)
URL_ATTR = re.compile(r'\b(?:src|href|action|srcset|poster|data)\s*=\s*"([^"]*)"', re.I)
QUICK_EXIT = "/exit"


def pages(client: FlaskClient, settings: Settings) -> Iterator[tuple[str, TestResponse]]:
    """Every page a source can see, in the states they can see it in, errors included."""
    yield "/", client.get("/")
    yield "/signs", client.get("/signs")
    yield "/hide-your-visit", client.get("/hide-your-visit")
    yield "/generate", client.get("/generate")
    shown = create_form(client.get("/generate").get_data(as_text=True), typed_back=False)
    yield "/create (words wrong)", client.post("/create", data=shown | {"word_a": "x"})
    yield "/login", client.get("/login")
    yield "/login (hiding what is typed)", client.get("/login?hide=1")
    login = client.get("/login").get_data(as_text=True)
    for state, typed in [
        ("wrong codename", "zebra tiger lemon river candy violin wagon"),
        ("word not on the list", "zebra tiger qqqq river candy violin wagon"),
        ("too few words", "wrong codename"),
    ]:
        token = csrf_token(login)
        yield (
            f"/login ({state})",
            client.post("/login", data={"csrf_token": token, "codename": typed}),
        )
    yield "/logout", client.get("/logout")
    yield "404", client.get("/no-such-page")
    yield "405", client.get("/submit")
    yield "/create (forged)", client.post("/create", data={"csrf_token": csrf_token(login)})
    yield "CSRF error", client.post("/login", data={"codename": "x"})
    # A body larger than the limit; its length alone is refused, before anything is read.
    too_big = {"CONTENT_LENGTH": str(settings.max_upload_bytes * 2)}
    yield "413", client.post("/submit", environ_overrides=too_big)
    new_source(client)
    yield "/lookup", client.get("/lookup?new=1")
    yield "/lookup (about someone else)", client.get("/lookup?about=other")
    page = client.get("/lookup").get_data(as_text=True)
    yield "/submit (empty)", client.post("/submit", data={"csrf_token": csrf_token(page)})
    too_long = "x" * (settings.max_message_chars + 1)
    yield (
        "/submit (too long)",
        client.post("/submit", data={"csrf_token": csrf_token(page), "msg": too_long}),
    )
    sent = client.post("/submit", data={"csrf_token": csrf_token(page), "what": "a report"})
    assert sent.location == "/sent"
    yield "/sent", client.get("/sent")
    yield "/wait (waiting)", client.get("/wait")
    with client.session_transaction() as session:  # as if the wait began 11 minutes ago
        session[WAITING_SINCE] = (utcnow() - timedelta(minutes=11)).isoformat()
    yield "/wait (no reply in time)", client.get("/wait")
    about = {"csrf_token": csrf_token(page), "what": "my friend", "who": "other"}
    client.post("/submit", data=about)
    yield "/sent (someone else)", client.get("/sent")
    reply_to_only_source(settings, "A first reply.", "A second reply.")
    yield "/wait (a reply came)", client.get("/wait")
    page = client.get("/lookup").get_data(as_text=True)
    yield "/lookup (replies)", client.get("/lookup")
    reply = page.split('name="reply" value="')[1].split('"')[0]
    yield "/delete-reply", client.get(f"/delete-reply?reply={reply}")
    yield "/delete-all-replies", client.get("/delete-all-replies")
    client.post("/delete-all-replies", data={"csrf_token": csrf_token(page), "confirm": "yes"})
    yield "/lookup (replies deleted)", client.get("/lookup")
    yield "/logout (logged in)", client.get("/logout")
    yield "/delete-account", client.get("/delete-account")
    yield (
        "/delete-account (unconfirmed)",
        client.post("/delete-account", data={"csrf_token": csrf_token(page)}),
    )
    yield (
        "/delete-account (deleted)",
        client.post("/delete-account", data={"csrf_token": csrf_token(page), "confirm": "yes"}),
    )
    remove_submission_key(settings)
    yield "503 (no submission key)", client.get("/")


@pytest.fixture
def every_page(source_client: FlaskClient, settings: Settings) -> list[tuple[str, TestResponse]]:
    return list(pages(source_client, settings))


def test_no_script_and_nothing_loaded_from_elsewhere(every_page: list) -> None:
    assert len(every_page) == 34
    for name, response in every_page:
        html = response.get_data(as_text=True)
        assert "<script" not in html.lower(), name
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", html, re.I), name  # no inline handlers
        for tag in RESOURCE.findall(html):
            for url in URL_ATTR.findall(tag):
                assert url.startswith("/") and not url.startswith("//"), (name, url)
        for url in URL_ATTR.findall(html):
            # Nothing links elsewhere: even the quick exit goes through /exit, which redirects.
            assert not url.startswith(("http:", "https:", "//")), (name, url)
        assert html.count(f'href="{QUICK_EXIT}" rel="noreferrer"') == 1, name


def test_every_page_and_error_wears_the_neutral_title(every_page: list) -> None:
    # Tab lists show titles: none may say what this site is for (issue 12).
    for name, response in every_page:
        html = response.get_data(as_text=True)
        assert re.findall(r"<title>(.*?)</title>", html, re.S) == ["Notes"], name


def test_security_headers_on_every_page(every_page: list) -> None:
    for name, response in every_page:
        headers = response.headers
        assert headers["Content-Security-Policy"].startswith("default-src 'none'"), name
        assert "script-src" not in headers["Content-Security-Policy"], name
        assert headers["Referrer-Policy"] == "no-referrer", name
        assert headers["X-Frame-Options"] == "DENY", name
        assert headers["X-Content-Type-Options"] == "nosniff", name
        assert headers["Cache-Control"] == "no-store", name


def test_session_cookie_is_opaque_and_dies_with_the_browser(source_client: FlaskClient) -> None:
    codename = new_source(source_client)
    cookies = source_client.get_cookie("sts_source")
    assert cookies is not None
    assert cookies.expires is None  # a session cookie: gone when the browser closes
    assert cookies.http_only
    assert cookies.same_site == "Strict"
    assert codename not in cookies.value
    assert codename.replace(" ", "") not in cookies.value
    assert len(cookies.value) == 43


def test_quick_exit_is_in_the_same_place_on_every_page(every_page: list) -> None:
    for name, response in every_page:
        html = response.get_data(as_text=True)
        header = html[html.index('<header class="top">') : html.index("</header>")]
        # The header's last element, right after the name: top right (top left in Arabic).
        assert header.rstrip().endswith(
            f'<a class="exit" href="{QUICK_EXIT}" rel="noreferrer">Leave this site</a>'
        ), name
        assert html.index("<header") < html.index("<main"), name


def test_nothing_is_cached_not_even_the_style_sheet(source_client: FlaskClient) -> None:
    for path in ("/static/style.css", "/?l=ar"):
        with source_client.get(path) as response:  # closes the static file it streams
            assert response.status_code == 200
            assert response.headers["Cache-Control"] == "no-store", path
