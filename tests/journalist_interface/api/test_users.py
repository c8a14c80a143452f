"""GET /api/v1/user and /api/v1/users."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.models import Staff
from seethesigns.settings import Settings
from seethesigns.staff_accounts import NewStaff
from tests.journalist_interface.api.conftest import ApiClient
from tests.journalist_interface.conftest import add_staff


def test_the_current_user_with_admin_flag_and_last_login(
    api: ApiClient, alice: NewStaff, open_db: sessionmaker[Session]
) -> None:
    response = api.get("/user")
    assert response.status_code == 200
    with open_db() as db:
        staff = db.scalars(select(Staff)).one()
    assert staff.last_login is not None  # getting the token was a login
    assert response.get_json() == {
        "first_name": None,
        "is_admin": False,
        "last_login": staff.last_login.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "last_name": None,
        "username": "alice",
        "uuid": alice.staff.uuid,
    }
    datetime.strptime(response.get_json()["last_login"], "%Y-%m-%dT%H:%M:%S.%fZ")


def test_an_admin_s_display_name_and_flag(api: ApiClient, open_db: sessionmaker[Session]) -> None:
    with open_db() as db:
        db.execute(update(Staff).values(is_admin=True, display_name="Alice O."))
        db.commit()
    body = api.get("/user").get_json()
    assert (body["is_admin"], body["first_name"]) == (True, "Alice O.")


def test_every_user_without_admin_details(
    api: ApiClient, alice: NewStaff, open_db: sessionmaker[Session], settings: Settings
) -> None:
    bob = add_staff(open_db, settings, "bob")
    response = api.get("/users")
    assert response.status_code == 200
    assert response.get_json() == {
        "users": [
            {"first_name": None, "last_name": None, "username": "alice", "uuid": alice.staff.uuid},
            {"first_name": None, "last_name": None, "username": "bob", "uuid": bob.staff.uuid},
        ]
    }
