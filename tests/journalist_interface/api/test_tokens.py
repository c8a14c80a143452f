"""POST /api/v1/token and /api/v1/logout: who gets a token, how long it lasts, and revoking it."""

from __future__ import annotations

import hashlib
import time
from datetime import datetime, timedelta

import pyotp
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.models import ApiToken, Staff
from seethesigns.models.base import utcnow
from seethesigns.settings import Settings
from seethesigns.staff_accounts import NewStaff
from tests.journalist_interface.api.conftest import API, auth, request_token, token_of
from tests.journalist_interface.conftest import add_staff

FORBIDDEN = {"error": "Forbidden", "message": "Token authentication failed."}


def test_right_details_give_an_eight_hour_token(
    journalist_client: FlaskClient, alice: NewStaff, open_db: sessionmaker[Session]
) -> None:
    before = utcnow()
    response = request_token(journalist_client, alice)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {
        "expiration",
        "token",
        "journalist_uuid",
        "journalist_first_name",
        "journalist_last_name",
    }
    assert body["journalist_uuid"] == alice.staff.uuid
    assert body["journalist_first_name"] is None
    assert body["journalist_last_name"] is None
    assert len(body["token"]) >= 43  # 256 bits, URL-safe base64
    expiration = datetime.strptime(body["expiration"], "%Y-%m-%dT%H:%M:%S.%fZ")
    assert before + timedelta(hours=8) <= expiration <= utcnow() + timedelta(hours=8)
    assert "Set-Cookie" not in response.headers
    with open_db() as db:
        row = db.scalars(select(ApiToken)).one()
    # Only the hash is stored, with the epoch the token belongs to.
    assert row.id == hashlib.sha256(body["token"].encode()).hexdigest()
    assert row.id != body["token"]
    assert row.staff_id == alice.staff.id
    assert row.session_epoch == 0
    assert row.expires_at == expiration


def test_the_display_name_is_the_first_name(
    journalist_client: FlaskClient, alice: NewStaff, open_db: sessionmaker[Session]
) -> None:
    with open_db() as db:
        db.execute(update(Staff).values(display_name="Alice Okafor"))
        db.commit()
    body = request_token(journalist_client, alice).get_json()
    assert body["journalist_first_name"] == "Alice Okafor"


@pytest.mark.parametrize(
    "override",
    [
        {"passphrase": "wrong wrong wrong wrong wrong wrong wrong"},
        {"one_time_code": "000000"},
        {"username": "nobody"},
    ],
)
def test_any_wrong_detail_is_a_403_that_does_not_say_which(
    journalist_client: FlaskClient, alice: NewStaff, override: dict[str, str]
) -> None:
    response = request_token(journalist_client, alice, **override)
    assert response.status_code == 403
    assert response.get_json() == FORBIDDEN


@pytest.mark.parametrize(
    "code",
    ["\uff11\uff12\uff13\uff14\uff15\uff16", "²²²²²²", "12345é"],
    ids=["fullwidth", "superscript", "accent"],
)
def test_a_non_ascii_code_is_a_403_like_an_unknown_username_and_counts(
    journalist_client: FlaskClient, alice: NewStaff, settings: Settings, code: str
) -> None:
    """Issue 10: a known username with such a code got a 500, an unknown one a 403."""
    unknown = request_token(journalist_client, alice, username="nobody", one_time_code=code)
    assert (unknown.status_code, unknown.get_json()) == (403, FORBIDDEN)
    for _ in range(settings.login.max_failures + 1):
        known = request_token(journalist_client, alice, one_time_code=code)
        assert (known.status_code, known.get_json()) == (403, FORBIDDEN)
    assert request_token(journalist_client, alice).status_code == 403  # locked out


def test_a_one_time_code_works_once(journalist_client: FlaskClient, alice: NewStaff) -> None:
    code = pyotp.TOTP(alice.totp_secret).now()
    assert request_token(journalist_client, alice, one_time_code=code).status_code == 200
    replayed = request_token(journalist_client, alice, one_time_code=code)
    assert replayed.status_code == 403
    assert replayed.get_json() == FORBIDDEN


def test_lockout_after_repeated_failures_refuses_even_the_right_details(
    journalist_client: FlaskClient, alice: NewStaff, settings: Settings
) -> None:
    for _ in range(settings.login.max_failures + 1):
        request_token(journalist_client, alice, passphrase="wrong")
    response = request_token(journalist_client, alice)
    assert response.status_code == 403
    assert response.get_json() == FORBIDDEN


@pytest.mark.parametrize("missing", ["username", "passphrase", "one_time_code"])
def test_a_missing_field_is_a_400_naming_it(
    journalist_client: FlaskClient, alice: NewStaff, missing: str
) -> None:
    response = request_token(journalist_client, alice, **{missing: None})
    assert response.status_code == 400
    assert response.get_json() == {"error": "Bad Request", "message": f"{missing} field is missing"}


def test_a_field_that_is_not_a_string_is_a_400(
    journalist_client: FlaskClient, alice: NewStaff
) -> None:
    response = request_token(journalist_client, alice, one_time_code=123456)
    assert response.status_code == 400
    assert response.get_json()["message"] == "one_time_code must be a string"


@pytest.mark.parametrize("body", [b"", b"not json", b"[1, 2]", b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_a_400(
    journalist_client: FlaskClient, alice: NewStaff, body: bytes
) -> None:
    response = journalist_client.post(
        f"{API}/token", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "Bad Request"


def test_logout_revokes_the_token(
    journalist_client: FlaskClient, alice: NewStaff, open_db: sessionmaker[Session]
) -> None:
    token = token_of(journalist_client, alice)
    assert journalist_client.get(f"{API}/user", headers=auth(token)).status_code == 200
    response = journalist_client.post(f"{API}/logout", headers=auth(token))
    assert response.status_code == 200
    assert response.get_json() == {"message": "Your token has been revoked."}
    after = journalist_client.get(f"{API}/user", headers=auth(token))
    assert after.status_code == 403
    assert after.get_json() == {"error": "Forbidden", "message": "API token is invalid or expired."}
    with open_db() as db:
        assert db.scalars(select(ApiToken)).all() == []


def test_logout_leaves_other_tokens_working(
    journalist_client: FlaskClient, alice: NewStaff
) -> None:
    first = token_of(journalist_client, alice)
    second = token_of(journalist_client, alice, at=time.time() + 30)
    journalist_client.post(f"{API}/logout", headers=auth(first))
    assert journalist_client.get(f"{API}/user", headers=auth(second)).status_code == 200


def test_an_expired_token_is_refused_and_forgotten(
    journalist_client: FlaskClient, alice: NewStaff, open_db: sessionmaker[Session]
) -> None:
    token = token_of(journalist_client, alice)
    with open_db() as db:
        db.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.commit()
    response = journalist_client.get(f"{API}/user", headers=auth(token))
    assert response.status_code == 403
    assert response.get_json()["message"] == "API token is invalid or expired."
    with open_db() as db:
        assert db.scalars(select(ApiToken)).all() == []


def test_a_token_from_before_a_passphrase_reset_is_refused(
    journalist_client: FlaskClient, alice: NewStaff, open_db: sessionmaker[Session]
) -> None:
    token = token_of(journalist_client, alice)
    with open_db() as db:  # what resetting the passphrase or two-factor does
        db.execute(update(Staff).values(session_epoch=Staff.session_epoch + 1))
        db.commit()
    assert journalist_client.get(f"{API}/user", headers=auth(token)).status_code == 403
    fresh = token_of(journalist_client, alice, at=time.time() + 30)
    assert journalist_client.get(f"{API}/user", headers=auth(fresh)).status_code == 200


def test_a_deleted_account_s_token_is_refused(
    journalist_client: FlaskClient,
    alice: NewStaff,
    open_db: sessionmaker[Session],
    settings: Settings,
) -> None:
    token = token_of(journalist_client, alice)
    add_staff(open_db, settings, "bob")
    with open_db() as db:
        db.delete(db.get(Staff, alice.staff.id))
        db.commit()
    assert journalist_client.get(f"{API}/user", headers=auth(token)).status_code == 403


def test_issuing_a_token_clears_out_expired_ones(
    journalist_client: FlaskClient, alice: NewStaff, open_db: sessionmaker[Session]
) -> None:
    token_of(journalist_client, alice)
    with open_db() as db:
        db.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(minutes=1)))
        db.commit()
    token_of(journalist_client, alice, at=time.time() + 30)
    with open_db() as db:
        assert len(db.scalars(select(ApiToken)).all()) == 1
