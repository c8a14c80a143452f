"""The quick exit ends the session on the server; every page wears the neutral title."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import func, select

from seethesigns.db import make_engine, make_session_factory
from seethesigns.instance_settings import Disguise, update_disguise
from seethesigns.models import WebSession
from seethesigns.settings import Settings
from tests.source_interface.test_every_page import pages
from tests.source_interface.test_journey import new_source
from tests.source_interface.test_replies_and_leaving import reply_to_only_source

TITLE = re.compile(r"<title>(.*?)</title>", re.S)
CHOSEN = Disguise("Maths revision", "http://127.0.0.1:9/weather")


def session_rows(settings: Settings) -> int:
    """How many source sessions the database holds."""
    with make_session_factory(make_engine(settings.database_url))() as db:
        found = select(func.count()).select_from(WebSession).where(WebSession.interface == "source")
        return int(db.scalar(found) or 0)


def choose(settings: Settings, disguise: Disguise) -> None:
    """An admin picks the title and exit page (through the domain function)."""
    with make_session_factory(make_engine(settings.database_url))() as db:
        update_disguise(db, disguise)


def test_the_exit_ends_the_session_on_the_server(
    source_client: FlaskClient, settings: Settings
) -> None:
    new_source(source_client)
    reply_to_only_source(settings, "We are here to help you.")
    assert "We are here to help you." in source_client.get("/lookup").get_data(as_text=True)
    cookie = source_client.get_cookie("sts_source")
    assert cookie is not None and session_rows(settings) == 1

    left = source_client.get("/exit")
    assert left.status_code == 303
    assert left.headers["Location"] == Disguise().exit_url
    assert left.headers["Clear-Site-Data"] == '"cache", "cookies"'
    assert left.headers["Cache-Control"] == "no-store"
    assert left.headers["Referrer-Policy"] == "no-referrer"
    assert session_rows(settings) == 0  # the row is gone, not just the cookie
    assert source_client.get_cookie("sts_source") is None

    # Even with the old cookie put back (a copy kept on the phone), nothing opens.
    source_client.set_cookie("sts_source", cookie.value)
    assert source_client.get("/lookup").headers["Location"] == "/login"
    assert session_rows(settings) == 0


def test_the_exit_works_without_a_session_and_makes_none(
    source_client: FlaskClient, settings: Settings
) -> None:
    left = source_client.get("/exit")
    assert left.status_code == 303
    assert left.headers["Location"] == Disguise().exit_url
    assert "Set-Cookie" not in left.headers
    assert session_rows(settings) == 0


def test_the_exit_forgets_the_language_too(source_client: FlaskClient) -> None:
    source_client.get("/?l=ar")
    assert 'lang="ar"' in source_client.get("/").get_data(as_text=True)
    source_client.get("/exit")
    assert 'lang="en"' in source_client.get("/").get_data(as_text=True)


def test_the_exit_goes_where_an_admin_says(source_client: FlaskClient, settings: Settings) -> None:
    choose(settings, CHOSEN)
    assert source_client.get("/exit").headers["Location"] == CHOSEN.exit_url


def test_every_page_and_error_wears_the_chosen_title(
    source_client: FlaskClient, settings: Settings
) -> None:
    choose(settings, CHOSEN)
    titles = {
        name: TITLE.findall(response.get_data(as_text=True))
        for name, response in pages(source_client, settings)
    }
    assert len(titles) == 34
    assert {name: found for name, found in titles.items() if found != [CHOSEN.site_title]} == {}
