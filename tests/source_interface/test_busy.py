"""When every codename derivation slot is taken: a calm 503 page that keeps what was typed.

Issue 10: each /create and codename login costs two argon2id runs at 64 MiB, for anyone. A
process runs at most [argon2] max_concurrent at once; a request that finds them all taken for
[argon2] busy_wait_seconds gets a "try again in a minute" page instead of more memory.
Here the cap is one slot and no wait (through settings), and the test holds that slot.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from seethesigns.codenames import DerivationSlots
from seethesigns.db import make_engine, make_session_factory
from seethesigns.instance_settings import instance_config
from seethesigns.models import Source, Submission
from seethesigns.settings import Settings
from seethesigns.web.setup import EXTENSION, Services
from tests.conftest import create_form, csrf_token
from tests.source_interface.readability import flesch_reading_ease, visible_text
from tests.source_interface.test_journey import CODENAME, new_source

BUSY = "Lots of people are using this right now"
QUICK_EXIT = 'href="/exit" rel="noreferrer"'


@pytest.fixture
def busy_app(settings: Settings) -> Flask:
    """The source interface with one derivation slot and no waiting for it."""
    from source_interface import create_app

    one_slot = replace(settings.argon2, max_concurrent=1, busy_wait_seconds=0)
    app = create_app(replace(settings, argon2=one_slot))
    app.config["TESTING"] = True
    return app


@pytest.fixture
def slots(busy_app: Flask) -> DerivationSlots:
    """The app's own slots, which a test takes to play the people using it right now."""
    found: Services = busy_app.extensions[EXTENSION]
    return found.deriver.slots


@pytest.fixture
def client(busy_app: Flask) -> FlaskClient:
    return busy_app.test_client()


@pytest.fixture
def open_db(settings: Settings) -> sessionmaker[Session]:
    return make_session_factory(make_engine(settings.database_url))


def sources(open_db: sessionmaker[Session]) -> int:
    with open_db() as db:
        return db.scalar(select(func.count()).select_from(Source)) or 0


def generated(client: FlaskClient) -> dict[str, str]:
    page = client.get("/generate").get_data(as_text=True)
    return create_form(page)


def assert_busy(response: TestResponse) -> str:
    """A 503 that says to come back in a minute, and the page's HTML."""
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    page = response.get_data(as_text=True)
    assert BUSY in page
    return page


def test_a_new_codename_is_kept_when_busy_and_works_on_retry(
    client: FlaskClient, slots: DerivationSlots, open_db: sessionmaker[Session]
) -> None:
    form = generated(client)
    with slots.slot():
        page = assert_busy(client.post("/create", data=form))
    # The same codename, maybe written down already, and the same form to press again.
    found = CODENAME.search(page)
    assert found is not None and found.group(1) == form["codename"]
    again = create_form(page)
    assert {k: again[k] for k in ("codename", "issued", "mac")} == {
        k: form[k] for k in ("codename", "issued", "mac")
    }
    assert sources(open_db) == 0
    assert client.post("/create", data=again).headers["Location"] == "/lookup?new=1"
    assert sources(open_db) == 1


def test_logging_in_when_busy_says_so_and_does_not_send_the_codename_back(
    busy_app: Flask, client: FlaskClient, slots: DerivationSlots
) -> None:
    codename = new_source(busy_app.test_client())
    token = csrf_token(client.get("/login").get_data(as_text=True))
    with slots.slot():
        page = assert_busy(client.post("/login", data={"csrf_token": token, "codename": codename}))
    assert codename not in page  # a codename is never put into a page
    assert client.get("/lookup").headers["Location"] == "/login"
    response = client.post("/login", data={"csrf_token": token, "codename": codename})
    assert response.headers["Location"] == "/lookup"


def test_the_codename_check_when_busy_keeps_the_words_and_sends_nothing(
    client: FlaskClient, slots: DerivationSlots, open_db: sessionmaker[Session]
) -> None:
    with open_db() as db:
        instance_config(db).reject_codename_messages = True
        db.commit()
    new_source(client)
    token = csrf_token(client.get("/lookup").get_data(as_text=True))
    seven_words = "he waits by the shop every day"  # checked as a possible codename
    with slots.slot():
        page = assert_busy(client.post("/submit", data={"csrf_token": token, "msg": seven_words}))
    assert "Nothing was sent yet" in page
    assert f">{seven_words}</textarea>" in page
    with open_db() as db:
        assert db.scalar(select(func.count()).select_from(Submission)) == 0
    sent = client.post("/submit", data={"csrf_token": token, "msg": seven_words})
    assert sent.headers["Location"] == "/sent"


def busy_pages(busy_app: Flask, slots: DerivationSlots, language: str) -> list[str]:
    """The three busy pages, in a language chosen with the switcher."""
    client = busy_app.test_client()
    pages = []
    form = generated(client)
    new_source(busy_app.test_client())
    client.get(f"/?l={language}")
    with slots.slot():
        pages.append(client.post("/create", data=form).get_data(as_text=True))
        token = form["csrf_token"]
        typed = "zebra tiger lemon river candy violin wagon"  # read, then busy deriving
        login = client.post("/login", data={"csrf_token": token, "codename": typed})
        pages.append(login.get_data(as_text=True))
    logged_in = busy_app.test_client()
    logged_in.get(f"/?l={language}")
    new_source(logged_in)
    with open_db_of(busy_app) as db:
        instance_config(db).reject_codename_messages = True
        db.commit()
    token = csrf_token(logged_in.get("/lookup").get_data(as_text=True))
    with slots.slot():
        submit = logged_in.post("/submit", data={"csrf_token": token, "msg": "a b c d e f g"})
        pages.append(submit.get_data(as_text=True))
    return pages


def open_db_of(app: Flask) -> Session:
    found: Services = app.extensions[EXTENSION]
    return found.db()


def test_busy_pages_are_plain_and_easy_to_read(busy_app: Flask, slots: DerivationSlots) -> None:
    for page in busy_pages(busy_app, slots, "en"):
        assert BUSY in page
        assert "<script" not in page.lower()
        assert page.count(QUICK_EXIT) == 1
        assert "<title>Notes</title>" in page  # the neutral title, like every source page
        main = page[page.index("<main") : page.index("</main>")]
        assert flesch_reading_ease(visible_text(main)) >= 70


@pytest.mark.parametrize("language", ["pl", "ro", "ar"])
def test_busy_pages_are_translated(busy_app: Flask, slots: DerivationSlots, language: str) -> None:
    for page in busy_pages(busy_app, slots, language):
        assert f'<html lang="{language}"' in page
        assert BUSY not in page and "a minute" not in page
