"""Server-side sessions through a tiny Flask app on a real database file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask, jsonify, request, session
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.db import make_engine, make_session_factory
from seethesigns.models import WebSession
from seethesigns.models.base import utcnow
from seethesigns.settings import Settings
from seethesigns.web.sessions import ServerSession, ServerSessionInterface

COOKIE = "sts_test"
SECRET_VALUE = "correct horse battery staple"


@pytest.fixture
def sessions(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """A session factory on the instance's database file."""
    engine = make_engine(settings.database_url)
    yield make_session_factory(engine)
    engine.dispose()


def make_app(sessions: sessionmaker[Session], interface: str = "source") -> Flask:
    """An app whose only state is the session under test."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY=b"k" * 32, SESSION_COOKIE_NAME=COOKIE, TESTING=True)
    app.session_interface = ServerSessionInterface(sessions, interface, timedelta(minutes=5))

    @app.post("/set")
    def set_value() -> str:
        session.update(request.form)
        return ""

    @app.get("/get")
    def get_values() -> object:
        return jsonify(dict(session))

    @app.post("/login")
    def login() -> str:
        assert isinstance(session, ServerSession)
        session.regenerate()
        session["who"] = "staff member"
        return ""

    @app.post("/logout")
    def logout() -> str:
        session.clear()
        return ""

    return app


@pytest.fixture
def client(sessions: sessionmaker[Session]) -> FlaskClient:
    """A browser on the tiny app."""
    return make_app(sessions).test_client()


def token_of(client: FlaskClient) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


def rows(sessions: sessionmaker[Session]) -> list[WebSession]:
    with sessions() as s:
        return list(s.scalars(select(WebSession)))


def test_untouched_session_sets_no_cookie_and_stores_nothing(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    response = client.get("/get")
    assert response.json == {}
    assert "Set-Cookie" not in response.headers
    assert rows(sessions) == []


def test_values_round_trip(client: FlaskClient) -> None:
    client.post("/set", data={"key_secret": SECRET_VALUE, "n": "1"})
    assert client.get("/get").json == {"key_secret": SECRET_VALUE, "n": "1"}


def test_cookie_is_an_opaque_token(client: FlaskClient, sessions: sessionmaker[Session]) -> None:
    client.post("/set", data={"key_secret": SECRET_VALUE})
    token = token_of(client)
    assert len(token) == 43
    assert SECRET_VALUE not in token
    assert "horse" not in token
    (row,) = rows(sessions)
    assert row.id != token
    assert token not in row.id


def test_stored_row_is_sealed(client: FlaskClient, sessions: sessionmaker[Session]) -> None:
    client.post("/set", data={"key_secret": SECRET_VALUE})
    (row,) = rows(sessions)
    assert row.interface == "source"
    assert b"horse" not in row.sealed
    assert b"key_secret" not in row.sealed
    assert token_of(client).encode() not in row.sealed


def test_cookie_flags(client: FlaskClient) -> None:
    response = client.post("/set", data={"a": "b"})
    header = response.headers["Set-Cookie"]
    assert header.startswith(f"{COOKIE}=")
    assert "HttpOnly" in header
    assert "SameSite=Strict" in header
    assert "Expires" not in header
    assert "Max-Age" not in header
    assert "Cookie" in response.vary


def test_regenerate_issues_a_new_token_and_retires_the_old(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    client.post("/set", data={"before": "login"})
    old = token_of(client)
    client.post("/login")
    new = token_of(client)
    assert new != old
    assert client.get("/get").json == {"before": "login", "who": "staff member"}
    assert len(rows(sessions)) == 1
    client.set_cookie(COOKIE, old)
    assert client.get("/get").json == {}


def test_expired_row_is_not_honoured(client: FlaskClient, sessions: sessionmaker[Session]) -> None:
    client.post("/set", data={"a": "b"})
    with sessions() as s, s.begin():
        s.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get("/get").json == {}


def test_each_request_renews_the_idle_timeout(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    client.post("/set", data={"a": "b"})
    with sessions() as s, s.begin():
        s.execute(update(WebSession).values(expires_at=utcnow() + timedelta(seconds=30)))
    client.post("/set", data={"c": "d"})
    (row,) = rows(sessions)
    assert row.expires_at > utcnow() + timedelta(minutes=4)


def test_tampered_cookie_gives_a_new_empty_session(client: FlaskClient) -> None:
    client.post("/set", data={"a": "b"})
    token = token_of(client)
    flipped = ("B" if token[0] != "B" else "C") + token[1:]
    # "é" and "ª" are alphanumeric to Python but not ASCII: once a 500 in open_session.
    for forged in (
        flipped,
        token[:-1],
        token + "A",
        "../../" + token[6:],
        "",
        "é" * 43,
        "ª" + token[1:],
    ):
        client.set_cookie(COOKIE, forged)
        response = client.post("/set", data={"fresh": "1"})
        assert client.get("/get").json == {"fresh": "1"}
        assert token_of(client) != token
        assert response.headers["Set-Cookie"]


def test_sealed_data_is_bound_to_its_token(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    client.post("/set", data={"victim": "data"})
    victim = rows(sessions)[0]
    other = make_app(sessions).test_client()
    other.post("/set", data={"attacker": "data"})
    attacker_id = next(row.id for row in rows(sessions) if row.id != victim.id)
    # Swap the victim's sealed bytes into the attacker's row: they must not open.
    with sessions() as s, s.begin():
        s.execute(
            update(WebSession).where(WebSession.id == attacker_id).values(sealed=victim.sealed)
        )
    assert other.get("/get").json == {}


def test_a_session_of_one_interface_does_not_open_the_other(
    sessions: sessionmaker[Session],
) -> None:
    source = make_app(sessions, "source").test_client()
    source.post("/set", data={"a": "b"})
    staff = make_app(sessions, "journalist").test_client()
    staff.set_cookie(COOKIE, token_of(source))
    assert staff.get("/get").json == {}


def test_clearing_the_session_removes_row_and_cookie(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    client.post("/set", data={"a": "b"})
    response = client.post("/logout")
    assert rows(sessions) == []
    assert f"{COOKIE}=;" in response.headers["Set-Cookie"]
    assert client.get_cookie(COOKIE) is None


def test_new_sessions_sweep_expired_rows(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    client.post("/set", data={"a": "b"})
    with sessions() as s, s.begin():
        s.execute(update(WebSession).values(expires_at=utcnow() - timedelta(days=1)))
    make_app(sessions).test_client().post("/set", data={"c": "d"})
    assert len(rows(sessions)) == 1
