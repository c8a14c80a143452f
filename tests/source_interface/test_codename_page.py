"""The codename page: keeping it safe, and typing two words back before going on (issue 12)."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import func, select

from seethesigns.codename_check import check_positions
from seethesigns.db import make_engine, make_session_factory
from seethesigns.models import Source
from seethesigns.settings import Settings
from tests.conftest import create_form

WRONG = "Those words don't match."


def source_count(settings: Settings) -> int:
    with make_session_factory(make_engine(settings.database_url))() as db:
        return db.scalar(select(func.count()).select_from(Source)) or 0


def test_the_page_asks_for_the_two_words_its_mac_chooses(source_client: FlaskClient) -> None:
    page = source_client.get("/generate").get_data(as_text=True)
    form = create_form(page, typed_back=False)
    first, second = check_positions(form["mac"])
    assert f"type word {first} and word {second}." in page
    assert f'<label for="word_a">Word {first}</label>' in page
    assert f'<label for="word_b">Word {second}</label>' in page
    # The browser must not keep the words either.
    for field in ("word_a", "word_b"):
        tag = re.search(rf'<input id="{field}"[^>]*>', page)
        assert tag and 'autocomplete="off"' in tag.group() and "required" in tag.group()


def test_a_wrong_answer_shows_the_same_codename_kindly(
    source_client: FlaskClient, settings: Settings
) -> None:
    shown = create_form(source_client.get("/generate").get_data(as_text=True), typed_back=False)
    for typed in [{}, {"word_a": "nope", "word_b": "nope"}]:
        response = source_client.post("/create", data=shown | typed)
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert WRONG in page
        error = re.search(r'<p class="error"[^>]*id="check-error"[^>]*>', page)
        assert error and "autofocus" in error.group()
        again = create_form(page, typed_back=False)
        assert {k: again[k] for k in ("codename", "issued", "mac")} == {
            k: shown[k] for k in ("codename", "issued", "mac")
        }
        assert "nope" not in page  # what they typed is not put back in the page
    assert source_count(settings) == 0
    right = create_form(page)
    assert source_client.post("/create", data=right).headers["Location"] == "/lookup?new=1"
    assert source_count(settings) == 1


def test_the_advice_is_concrete_and_does_not_contradict_itself(
    source_client: FlaskClient,
) -> None:
    page = source_client.get("/generate").get_data(as_text=True)
    assert "Learn it by heart." in page
    assert "shopping list" in page
    assert "Don't save it in your phone's notes." in page
    assert "delete everything" in page
    assert "Write it down and keep it safe" not in page


def test_login_shows_what_is_typed_unless_asked_to_hide_it(source_client: FlaskClient) -> None:
    shown = source_client.get("/login").get_data(as_text=True)
    box = re.search(r'<input id="codename"[^>]*>', shown)
    assert box and 'type="text"' in box.group() and 'autocomplete="off"' in box.group()
    assert 'spellcheck="false"' in box.group() and 'autocapitalize="none"' in box.group()
    assert 'href="/login?hide=1"' in shown
    hidden = source_client.get("/login?hide=1").get_data(as_text=True)
    box = re.search(r'<input id="codename"[^>]*>', hidden)
    assert box and 'type="password"' in box.group() and 'autocomplete="off"' in box.group()
    # A failed login keeps it hidden: the form carries the choice.
    token = re.search(r'name="csrf_token" value="([^"]+)"', hidden)
    assert token
    failed = source_client.post(
        "/login", data={"csrf_token": token.group(1), "codename": "a b", "hide": "1"}
    ).get_data(as_text=True)
    box = re.search(r'<input id="codename"[^>]*>', failed)
    assert box and 'type="password"' in box.group()
