"""Fuzzing every route of both apps: whatever a request carries, the answer is never a 5xx.

The routes and their methods come from each app's url_map; field and query names from its
templates (`name="..."`) and from the names its code reads (`.get("...")`). Each example is
one request, by an anonymous visitor, a logged-in source, a logged-in admin or an API token
holder, with odd Unicode (unpaired surrogates, bidi controls, NUL, other scripts' digits),
bytes that are not UTF-8, huge and deeply nested values, wrong JSON types, odd content
types, junk cookies and Accept-Language. Hypothesis runs derandomized with no example
database, so that every run, in CI too, tries the same examples.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.db import make_engine, make_session_factory
from seethesigns.models import Reply, Source, Staff, Submission
from seethesigns.settings import Settings
from seethesigns.staff_accounts import StaffAccounts
from tests.conftest import activate, create_form, csrf_token, multipart

ROOT = Path(__file__).resolve().parents[3]
# Enough to find each class of issue 10's findings in a few minutes; FUZZ_EXAMPLES=2000 hunts.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "80"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
CODENAME = re.compile(r'<p class="codename" id="codename">([a-z -]+)</p>')


def names_used_by(package: str) -> list[str]:
    """The form, query and JSON names a package's templates and code use."""
    found: set[str] = set()
    for path in (ROOT / package).rglob("*"):
        if path.suffix == ".html":
            found |= set(re.findall(r'name="([A-Za-z_]+)"', path.read_text("utf-8")))
        elif path.suffix == ".py":
            found |= set(re.findall(r'\.get(?:list)?\(\s*"([A-Za-z_]+)"', path.read_text("utf-8")))
    return sorted(found)


# --- values ------------------------------------------------------------------------------

ANY_CHARACTER = st.characters(exclude_categories=())  # unpaired surrogates included
NASTY = st.sampled_from(
    [
        "",
        " ",
        "²",
        "٣٤",
        "\uff11\uff12\uff13\uff14\uff15\uff16",  # full-width digits
        "\u202egpj.exe",
        "\x00",
        "\ud800",
        "a\udfffb",
        "\udc00\ud800",
        "-1",
        "0" * 400,
        "1e309",
        "NaN",
        "null",
        "[]",
        "../../etc/passwd",
        "%s%n",
        "1-20240501120003000120-42",
        "11-20240501120003000120-42",
        "yes",
        "on",
        "1",
    ]
)
ODD_TEXT = st.one_of(
    NASTY,
    NASTY,
    st.text(ANY_CHARACTER, max_size=30),
    st.integers(-(2**70), 2**70).map(str),
)
HUGE_TEXT = st.sampled_from(["x" * 300_000, "é" * 70_000, "\U0001f49c" * 30_000])
VALUE = st.one_of(ODD_TEXT, ODD_TEXT, ODD_TEXT, HUGE_TEXT)


def utf8(text: str) -> bytes:
    """Text as UTF-8, an unpaired surrogate as the (invalid) bytes it would be."""
    return text.encode("utf-8", "surrogatepass")


def json_values() -> st.SearchStrategy[Any]:
    """Any JSON value: odd strings, numbers of every size, nesting."""
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**80), 2**80),
        st.floats(allow_nan=True, allow_infinity=True),
        ODD_TEXT,
    )
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ODD_TEXT, inner, max_size=4),
        max_leaves=12,
    )


# --- bodies ------------------------------------------------------------------------------


@dataclass
class Body:
    """What a request carries: its bytes and Content-Type (None: the header is left out)."""

    data: bytes = b""
    content_type: str | None = None
    with_csrf: bool = False
    pairs: list[tuple[str, str]] = field(default_factory=list)


FAMILIES = ["form", "multipart", "json", "other"]


@st.composite
def bodies(draw: st.DrawFn, family: str, names: list[str]) -> Body:
    """A body of one family. Often it holds every name the app uses, each with an odd value,
    so that whatever fields a view needs are there and it runs on to its own checks."""
    name = st.one_of(st.sampled_from(names), ODD_TEXT)
    every_name = st.fixed_dictionaries({key: ODD_TEXT for key in names})
    if family in ("form", "multipart"):
        if draw(st.booleans()):
            pairs = list(draw(every_name).items())
        else:
            pairs = draw(st.lists(st.tuples(name, VALUE), max_size=8))
        content_type = draw(
            st.sampled_from(
                [
                    "application/x-www-form-urlencoded",
                    "application/x-www-form-urlencoded",
                    "application/x-www-form-urlencoded; charset=utf-16",
                    "multipart/form-data",  # no boundary
                    "text/plain",
                ]
            )
        )
        if family == "multipart":
            content_type = "multipart/form-data; boundary=MULTIPART"
        return Body(content_type=content_type, with_csrf=draw(st.booleans()), pairs=pairs)
    if family == "json":
        shape = draw(st.sampled_from(["every name", "any", "nested"]))
        if shape == "every name":  # the right types, odd content: reaches the views
            value: Any = draw(st.fixed_dictionaries({key: ODD_TEXT for key in names}))
        elif shape == "any":
            value = draw(st.dictionaries(name, json_values(), max_size=6) | json_values())
        else:
            value = None
        depth = draw(st.sampled_from([40, 5000, 100_000]))
        text = json.dumps(value) if value is not None else "[" * depth
        content_type = draw(
            st.sampled_from(
                [
                    "application/json",
                    "application/json",
                    None,
                    "application/json; charset=latin-1",
                    "text/plain",
                ]
            )
        )
        return Body(text.encode("utf-8", "surrogatepass"), content_type)
    content_type = draw(
        st.sampled_from(
            [None, "application/octet-stream", "multipart/form-data; boundary=", 'a/b; c="', "*/*"]
        )
    )
    return Body(draw(st.binary(max_size=200)), content_type)


def encode_form(body: Body, token: str | None) -> tuple[bytes, str | None]:
    """The bytes of a form body, with the CSRF token first when the example asked for it."""
    pairs = ([("csrf_token", token)] if body.with_csrf and token else []) + body.pairs
    if body.content_type and body.content_type.endswith("boundary=MULTIPART"):
        fields = {key: value for key, value in pairs}
        data, content_type = multipart({}, "fh", "a\u202etxt.exe", b"\x00\xff" * 10)
        boundary = content_type.split("boundary=")[1]
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'.encode(
                "utf-8", "surrogatepass"
            )
            + utf8(value)
            + b"\r\n"
            for key, value in fields.items()
        ]
        return b"".join(parts) + data, content_type
    encoded = "&".join(
        f"{quote(utf8(key), safe='')}={quote(utf8(value), safe='')}" for key, value in pairs
    )
    return encoded.encode("ascii"), body.content_type


# --- visitors ----------------------------------------------------------------------------


@dataclass
class World:
    """Both apps of one instance, a source who has reported, a reply, and staff accounts."""

    settings: Settings
    source_app: Flask
    journalist_app: Flask
    db: sessionmaker[Session]
    codename: str = ""
    staff_made: int = 0

    def ids(self) -> dict[str, str]:
        """The real ids a path may name, recreating the source if an example deleted it."""
        with self.db() as db:
            source = db.scalar(select(Source).order_by(Source.id.desc()))
            if source is None:
                self.report()
                return self.ids()
            item = db.scalar(select(Submission.uuid).where(Submission.source_id == source.id))
            reply = db.scalar(select(Reply.uuid).where(Reply.source_id == source.id))
            staff = db.scalar(select(Staff.uuid).order_by(Staff.id))
        return {
            "source_uuid": source.uuid,
            "item_uuid": item or "",
            "submission_uuid": item or "",
            "reply_uuid": reply or "",
            "staff_uuid": staff or "",
            "filename": "style.css",
        }

    def report(self) -> None:
        """A new source sends a message and a file; staff reply."""
        client = self.source_app.test_client()
        page = client.get("/generate").get_data(as_text=True)
        shown = CODENAME.search(page)
        assert shown is not None
        self.codename = shown.group(1)
        form = create_form(page)
        assert client.post("/create", data=form).status_code == 302
        token = csrf_token(client.get("/lookup").get_data(as_text=True))
        data, content_type = multipart({"csrf_token": token, "msg": "hello"}, "fh", "a.jpg", b"x")
        assert client.post("/submit", data=data, content_type=content_type).status_code == 302
        staff = self.staff_client()
        source = self.source_uuid()
        page = staff.get(f"/sources/{source}").get_data(as_text=True)
        reply = {"csrf_token": csrf_token(page), "message": "We are here."}
        assert staff.post(f"/sources/{source}/reply", data=reply).status_code == 302

    def source_uuid(self) -> str:
        """The newest source's uuid."""
        with self.db() as db:
            found = db.scalar(select(Source.uuid).order_by(Source.id.desc()))
        assert found is not None
        return found

    def new_admin(self) -> tuple[str, str, str]:
        """A new admin account (a one-time code is accepted once per account)."""
        self.staff_made += 1
        accounts = StaffAccounts(self.settings.argon2, self.settings.login)
        with self.db() as db:
            made = accounts.create(db, f"fuzz{self.staff_made}", True)
            activate(db, made.staff)
        return made.staff.username, made.passphrase, made.totp_secret

    def staff_client(self) -> FlaskClient:
        """A browser logged in as a new admin."""
        username, passphrase, secret = self.new_admin()
        client = self.journalist_app.test_client()
        token = csrf_token(client.get("/login").get_data(as_text=True))
        form = {
            "csrf_token": token,
            "username": username,
            "passphrase": passphrase,
            "token": pyotp.TOTP(secret).now(),
        }
        assert client.post("/login", data=form).status_code == 302
        return client

    def api_token(self) -> str:
        """A token for a new admin."""
        username, passphrase, secret = self.new_admin()
        creds = {
            "username": username,
            "passphrase": passphrase,
            "one_time_code": pyotp.TOTP(secret).now(),
        }
        response = self.journalist_app.test_client().post("/api/v1/token", json=creds)
        assert response.status_code == 200, response.get_json()
        token: str = response.get_json()["token"]
        return token

    def source_client(self) -> FlaskClient:
        """A browser logged in as the reporting source (a new one if it was deleted)."""
        self.ids()
        client = self.source_app.test_client()
        token = csrf_token(client.get("/login").get_data(as_text=True))
        response = client.post("/login", data={"csrf_token": token, "codename": self.codename})
        if response.status_code != 302:
            self.report()
            return self.source_client()
        return client


@dataclass
class Visitor:
    """One kind of visitor: a fresh client for each example, and its CSRF token."""

    app: Flask
    start: Callable[[], FlaskClient]
    token_page: str
    headers: Callable[[], dict[str, str]] = dict

    def begin(self) -> tuple[FlaskClient, str | None, dict[str, str]]:
        """A client, the CSRF token its session holds, and headers to send."""
        client = self.start()
        page = client.get(self.token_page).get_data(as_text=True)
        found = re.search(r'name="csrf_token" value="([^"]+)"', page)
        return client, found.group(1) if found else None, self.headers()


@pytest.fixture
def world(settings: Settings, source_app: Flask, journalist_app: Flask) -> Iterator[World]:
    """A reported instance, both apps over it."""
    engine = make_engine(settings.database_url)
    made = World(settings, source_app, journalist_app, make_session_factory(engine))
    made.report()
    yield made
    engine.dispose()


def visitor(world: World, kind: str) -> Visitor:
    """The visitor of a kind."""
    source, staff = world.source_app, world.journalist_app
    return {
        "anonymous source": Visitor(source, source.test_client, "/login"),
        "logged-in source": Visitor(source, world.source_client, "/logout"),  # a light page
        "anonymous staff": Visitor(staff, staff.test_client, "/login"),
        "anonymous API client": Visitor(staff, staff.test_client, "/login"),
        "admin": Visitor(staff, world.staff_client, "/account"),
        "API token": Visitor(
            staff,
            staff.test_client,
            "/login",
            lambda: {"Authorization": f"Token {world.api_token()}"},
        ),
    }[kind]


def routes(app: Flask, api: bool | None) -> list[tuple[str, str]]:
    """(method, rule) for every route and method of an app (only the API's, or none of them)."""
    return sorted(
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
        and (api is None or rule.rule.startswith("/api/") == api)
    )


@st.composite
def paths(draw: st.DrawFn, rule: str, ids: dict[str, str], names: list[str]) -> str:
    """A rule's path, each placeholder a real id, a random uuid or odd text."""

    def fill(found: re.Match[str]) -> str:
        # Everything is drawn whatever is chosen: what is drawn may not depend on the ids.
        choice = draw(st.sampled_from(["real", "real", "uuid", "odd"]))
        random_uuid = str(draw(st.uuids()))
        odd = quote(utf8(draw(ODD_TEXT)), safe="") or "x"
        real = ids.get(found.group(1).split(":")[-1])
        return {"real": real or random_uuid, "uuid": random_uuid, "odd": odd}[choice]

    path = re.sub(r"<([^>]+)>", fill, rule)
    query = draw(st.lists(st.tuples(st.sampled_from(names) | ODD_TEXT, ODD_TEXT), max_size=4))
    if query:
        path += "?" + "&".join(
            f"{quote(utf8(k), safe='')}={quote(utf8(v), safe='')}" for k, v in query
        )
    return path


@st.composite
def odd_headers(draw: st.DrawFn, cookie_name: str) -> dict[str, str]:
    """Headers a client might send oddly: Accept-Language, a junk session cookie."""
    headers = {}
    if draw(st.booleans()):
        headers["Accept-Language"] = draw(
            st.sampled_from(["ar", "pl;q=x", "²", "*;q=0", "en-GB;q=1.5, ro", "x" * 500])
        )
    if draw(st.integers(0, 4)) == 0:
        junk = draw(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=60))
        headers["Cookie"] = f"{cookie_name}={junk}"
    return headers


VISITORS = [
    "anonymous source",
    "logged-in source",
    "anonymous staff",
    "admin",
    "anonymous API client",
    "API token",
]


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("kind", VISITORS)
def test_no_request_gets_a_5xx(world: World, kind: str, family: str) -> None:
    who = visitor(world, kind)
    app_names = names_used_by(
        "source_interface" if who.app is world.source_app else "journalist_interface"
    )
    names = sorted(
        set(app_names)
        | {"csrf_token", "reply", "uuid", "files", "messages", "replies", "one_time_code"}
    )
    cookie = (
        world.settings.source if who.app is world.source_app else world.settings.journalist
    ).session_cookie_name
    every_route = routes(who.app, None if who.app is world.source_app else "API" in kind)

    @FUZZ
    @given(data=st.data())
    def one_request(data: st.DataObject) -> None:
        method, rule = data.draw(st.sampled_from(every_route), label="route")
        path = data.draw(paths(rule, world.ids(), names), label="path")
        body = data.draw(bodies(family, names), label="body")
        extra = data.draw(odd_headers(cookie), label="headers")
        client, token, headers = who.begin()
        content, content_type = (
            encode_form(body, token)
            if body.pairs or body.with_csrf
            else (body.data, body.content_type)
        )
        headers = {**headers, **extra}
        if content_type is not None:
            headers["Content-Type"] = content_type
        started = time.monotonic()
        response = client.open(path, method=method, data=content, headers=headers)
        note(f"{method} {path} {headers} {content[:300]!r}")
        text = response.get_data().decode("utf-8", "replace")
        response.close()  # a download's file
        if os.environ.get("FUZZ_STATS"):  # a file to see which routes and answers were tried
            with open(os.environ["FUZZ_STATS"], "a") as f:
                f.write(f"{kind}\t{family}\t{response.status_code}\t{method}\t{rule}\n")
        assert response.status_code < 500, text[:500]
        assert time.monotonic() - started < 30

    one_request()
