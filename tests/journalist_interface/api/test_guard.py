"""What every API request goes through: tokens only, no cookie, no CSRF, JSON bodies and errors."""

from __future__ import annotations

import json
import re
import uuid

import pyotp
import pytest
from flask import Flask, session
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.models import LoginFailure, WebSession
from seethesigns.settings import Settings
from seethesigns.staff_accounts import NewStaff
from seethesigns.web.sessions import ServerSession
from tests.conftest import remove_submission_key
from tests.journalist_interface.api.conftest import API, ApiClient, auth
from tests.journalist_interface.conftest import Reported

OPEN_PATHS = {f"{API}/", f"{API}/token"}


def api_routes(app: Flask) -> list[tuple[str, str]]:
    """(method, path) of every API route, its placeholders filled with random uuids."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(f"{API}/") or rule.rule in OPEN_PATHS:
            continue
        path = re.sub(r"<[^>]+>", lambda _: str(uuid.uuid4()), rule.rule)
        found += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


def test_the_api_has_every_documented_route(journalist_app: Flask) -> None:
    rules = {
        (method, rule.rule)
        for rule in journalist_app.url_map.iter_rules()
        if rule.rule.startswith(API)
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    source = f"{API}/sources/<source_uuid>"
    assert rules == {
        ("GET", f"{API}/"),
        ("POST", f"{API}/token"),
        ("POST", f"{API}/logout"),
        ("GET", f"{API}/user"),
        ("GET", f"{API}/users"),
        ("GET", f"{API}/sources"),
        ("GET", source),
        ("DELETE", source),
        ("POST", f"{source}/add_star"),
        ("DELETE", f"{source}/remove_star"),
        ("POST", f"{source}/star"),
        ("DELETE", f"{source}/star"),
        ("POST", f"{source}/flag"),
        ("DELETE", f"{source}/conversation"),
        ("GET", f"{source}/submissions"),
        ("GET", f"{source}/submissions/<submission_uuid>"),
        ("DELETE", f"{source}/submissions/<submission_uuid>"),
        ("GET", f"{source}/submissions/<submission_uuid>/download"),
        ("GET", f"{source}/replies"),
        ("POST", f"{source}/replies"),
        ("GET", f"{source}/replies/<reply_uuid>"),
        ("DELETE", f"{source}/replies/<reply_uuid>"),
        ("GET", f"{source}/replies/<reply_uuid>/download"),
        ("GET", f"{API}/submissions"),
        ("GET", f"{API}/replies"),
        ("POST", f"{API}/seen"),
    }


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Token "},
        {"Authorization": "Token not-a-token"},
        {"Authorization": "Bearer something"},
    ],
    ids=["none", "empty", "unknown", "bearer"],
)
def test_every_route_but_root_and_token_refuses_a_request_without_a_valid_token(
    journalist_app: Flask, journalist_client: FlaskClient, headers: dict[str, str]
) -> None:
    routes = api_routes(journalist_app)
    assert len(routes) == 24
    for method, path in routes:
        response = journalist_client.open(path, method=method, headers=headers, json={})
        assert response.status_code == 403, (method, path)
        body = response.get_json()
        assert body["error"] == "Forbidden", (method, path)
        assert "token" in body["message"], (method, path)


def test_a_web_login_does_not_open_the_api(logged_in: FlaskClient) -> None:
    # The browser's session cookie is sent along, but only the header counts.
    response = logged_in.get(f"{API}/sources")
    assert response.status_code == 403
    assert response.get_json()["message"] == "API token not found in Authorization header."


def test_an_api_call_neither_sets_nor_renews_the_web_session(
    logged_in: FlaskClient, alice_token: str, open_db: sessionmaker[Session]
) -> None:
    with open_db() as db:
        before = db.scalars(select(WebSession)).one()
    response = logged_in.get(f"{API}/user", headers=auth(alice_token))
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    with open_db() as db:
        after = db.scalars(select(WebSession)).one()
    assert (after.id, after.expires_at, after.sealed) == (
        before.id,
        before.expires_at,
        before.sealed,
    )


def test_under_the_api_a_staff_cookie_opens_no_session(
    logged_in: FlaskClient, journalist_app: Flask, settings: Settings
) -> None:
    name = settings.journalist.session_cookie_name
    cookie = logged_in.get_cookie(name)
    assert cookie is not None
    headers = {"Cookie": f"{name}={cookie.value}"}
    with journalist_app.test_request_context("/sources", headers=headers):
        assert session.get("staff_id") is not None  # the control: the web sees it
    with journalist_app.test_request_context(f"{API}/sources", headers=headers):
        assert dict(session) == {}


def test_under_the_api_even_a_written_session_is_never_stored(
    journalist_app: Flask, open_db: sessionmaker[Session]
) -> None:
    # Nothing in the API writes to the session; if a hook ever did, no cookie may result.
    interface = journalist_app.session_interface
    for path, stored in ((f"{API}/user", 0), ("/sources", 1)):  # the web path is the control
        with journalist_app.test_request_context(path):
            response = journalist_app.response_class()
            interface.save_session(journalist_app, ServerSession({"staff_id": 1}), response)
        assert ("Set-Cookie" in response.headers) == bool(stored), path
        with open_db() as db:
            assert len(db.scalars(select(WebSession)).all()) == stored, path


def test_state_changes_need_no_csrf_token_on_the_api_but_do_on_the_web(
    logged_in: FlaskClient, api: ApiClient, reported: Reported
) -> None:
    assert api.post(f"/sources/{reported.uuid}/add_star").status_code == 201
    assert logged_in.post("/logout").status_code == 400


def test_the_root_lists_the_resources_without_a_token(journalist_client: FlaskClient) -> None:
    response = journalist_client.get(f"{API}/")
    assert response.status_code == 200
    assert response.get_json() == {
        "all_users_url": "/api/v1/users",
        "auth_token_url": "/api/v1/token",
        "current_user_url": "/api/v1/user",
        "replies_url": "/api/v1/replies",
        "seen_url": "/api/v1/seen",
        "sources_url": "/api/v1/sources",
        "submissions_url": "/api/v1/submissions",
    }
    assert "Set-Cookie" not in response.headers


def test_an_unknown_path_is_a_json_404(api: ApiClient) -> None:
    response = api.get("/invalidendpoint")
    assert response.status_code == 404
    assert response.is_json
    assert response.get_json()["error"] == "Not Found"


def test_a_wrong_method_is_a_json_405(api: ApiClient, reported: Reported) -> None:
    response = api.delete(f"/sources/{reported.uuid}/add_star")
    assert response.status_code == 405
    assert response.get_json()["error"] == "Method Not Allowed"


@pytest.mark.parametrize("body", [b"{not json", b"\xff"])
def test_a_post_with_a_malformed_body_is_a_400(api: ApiClient, body: bytes) -> None:
    response = api.post("/seen", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json() == {"error": "Bad Request", "message": "malformed request"}


def test_a_post_with_no_body_is_a_400_except_where_none_is_needed(
    api: ApiClient, reported: Reported
) -> None:
    assert api.post("/seen").status_code == 400
    assert api.post(f"/sources/{reported.uuid}/replies").status_code == 400
    assert api.post(f"/sources/{reported.uuid}/star").status_code == 201
    assert api.post(f"/sources/{reported.uuid}/flag").status_code == 200
    assert api.post("/logout").status_code == 200


def test_a_body_over_two_megabytes_is_a_json_413(api: ApiClient) -> None:
    response = api.post("/seen", data=b"x" * (2 * 1024 * 1024 + 1))
    assert response.status_code == 413
    assert response.get_json()["error"] == "Request Entity Too Large"


def test_without_the_submission_key_the_api_answers_a_json_503(
    api: ApiClient, settings: Settings
) -> None:
    remove_submission_key(settings)
    response = api.get("/sources")
    assert response.status_code == 503
    assert response.get_json() == {
        "error": "Service Unavailable",
        "message": "The submission key is unusable.",
    }


def test_api_responses_carry_the_security_headers(api: ApiClient) -> None:
    response = api.get("/user")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.mimetype == "application/json"


MALFORMED = {"error": "Bad Request", "message": "malformed request"}
NESTED = [b"[" * 100_000, b'{"a":' * 50_000, b"[" * 33 + b"]" * 33]


@pytest.mark.parametrize("body", NESTED, ids=["100000-arrays", "50000-objects", "33-arrays"])
def test_deeply_nested_json_is_a_400(
    journalist_client: FlaskClient, api: ApiClient, body: bytes
) -> None:
    """Python's parser recursed until RecursionError: a 500, and no login needed."""
    anonymous = journalist_client.post(f"{API}/token", data=body, content_type="application/json")
    assert (anonymous.status_code, anonymous.get_json()) == (400, MALFORMED)
    with_token = api.post("/seen", data=body, content_type="application/json")
    assert (with_token.status_code, with_token.get_json()) == (400, MALFORMED)


def test_json_nested_as_deep_as_any_client_needs_is_read(api: ApiClient) -> None:
    """Control: a valid body nested a few levels is parsed (and refused for its content)."""
    body = json.dumps({"files": [[[["x"]]]], "messages": [], "replies": []})
    response = api.post("/seen", data=body, content_type="application/json")
    assert response.status_code != 500
    assert response.get_json() != MALFORMED


@pytest.mark.parametrize("field", ["username", "passphrase", "one_time_code"])
@pytest.mark.parametrize("text", [r"\ud800x", r"x\udfff", r"\udc00\ud800"])
def test_a_lone_surrogate_in_a_string_is_a_400(
    journalist_client: FlaskClient, alice: NewStaff, field: str, text: str
) -> None:
    """Valid JSON, but no valid text: encoding it for argon2 raised UnicodeEncodeError (500)."""
    creds = {"username": alice.staff.username, "passphrase": "x", "one_time_code": "1"}
    body = json.dumps(creds).replace(json.dumps(creds[field]), f'"{text}"', 1)
    response = journalist_client.post(f"{API}/token", data=body, content_type="application/json")
    assert (response.status_code, response.get_json()) == (400, MALFORMED)


def test_a_lone_surrogate_in_a_key_is_a_400(api: ApiClient) -> None:
    response = api.post("/seen", data=b'{"\\ud800": []}', content_type="application/json")
    assert (response.status_code, response.get_json()) == (400, MALFORMED)


def test_a_surrogate_pair_is_a_character_like_any_other(
    journalist_client: FlaskClient, alice: NewStaff
) -> None:
    """Control: \\ud83d\\ude00 is one emoji, and only the wrong passphrase is refused."""
    body = json.dumps(
        {"username": alice.staff.username, "passphrase": "\U0001f600", "one_time_code": "1"}
    )
    assert "\\ud83d\\ude00" in body
    response = journalist_client.post(f"{API}/token", data=body, content_type="application/json")
    assert response.status_code == 403


NOT_JSON = [
    "text/plain",
    "text/plain;charset=UTF-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/jsonp",
    "text/json",
]


@pytest.mark.parametrize("content_type", NOT_JSON)
def test_a_token_request_that_is_not_json_is_a_415_and_no_login_attempt(
    journalist_client: FlaskClient,
    alice: NewStaff,
    open_db: sessionmaker[Session],
    content_type: str,
) -> None:
    """What a page on any site can send cross-origin without asking: it must not count."""
    creds = {"username": alice.staff.username, "passphrase": "wrong", "one_time_code": "1"}
    response = journalist_client.post(
        f"{API}/token", data=json.dumps(creds), content_type=content_type
    )
    assert response.status_code == 415
    assert response.get_json()["error"] == "Unsupported Media Type"
    with open_db() as db:
        assert db.scalars(select(LoginFailure)).all() == []


def test_a_token_request_without_a_content_type_is_read_as_securedrop_s_sdk_sends_it(
    journalist_client: FlaskClient, alice: NewStaff
) -> None:
    """securedrop-sdk posts its JSON credentials with no Content-Type at all."""
    creds = {
        "username": alice.staff.username,
        "passphrase": alice.passphrase,
        "one_time_code": pyotp.TOTP(alice.totp_secret).now(),
    }
    response = journalist_client.post(f"{API}/token", data=json.dumps(creds))
    assert "Content-Type" not in response.request.headers
    assert response.status_code == 200


def test_a_browser_s_body_without_a_content_type_is_a_415(
    journalist_client: FlaskClient, alice: NewStaff, open_db: sessionmaker[Session]
) -> None:
    """fetch() with a Blob body sends no Content-Type, but always an Origin."""
    creds = {"username": alice.staff.username, "passphrase": "wrong", "one_time_code": "1"}
    response = journalist_client.post(
        f"{API}/token", data=json.dumps(creds), headers={"Origin": "https://elsewhere.example"}
    )
    assert response.status_code == 415
    with open_db() as db:
        assert db.scalars(select(LoginFailure)).all() == []


@pytest.mark.parametrize("content_type", NOT_JSON)
def test_every_api_body_that_is_not_json_is_a_415(
    api: ApiClient, reported: Reported, content_type: str
) -> None:
    source = f"/sources/{reported.uuid}"
    for method, path in [
        ("POST", "/seen"),
        ("POST", f"{source}/replies"),
        ("POST", f"{source}/star"),
        ("DELETE", f"{source}/conversation"),
        ("POST", "/logout"),
    ]:
        response = api.client.open(
            API + path,
            method=method,
            data=b'{"files": []}',
            content_type=content_type,
            headers=auth(api.token),
        )
        assert response.status_code == 415, (method, path)
    assert api.get(f"{source}/submissions").get_json()["submissions"]  # nothing was deleted
