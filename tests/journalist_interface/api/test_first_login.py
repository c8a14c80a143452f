"""The API and accounts that have not finished their first login (issue 13).

Getting a token is refused while pending: see tests/journalist_interface/test_first_login.py.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.models import Staff
from tests.journalist_interface.api.conftest import ApiClient


def test_a_token_stops_working_once_its_account_is_pending_again(
    api: ApiClient, open_db: sessionmaker[Session]
) -> None:
    """Defence in depth: a reset also ends the account's tokens (its epoch moves on)."""
    assert api.get("/user").status_code == 200
    with open_db() as db:
        db.execute(update(Staff).where(Staff.username == "alice").values(status="pending"))
        db.commit()
    refused = api.get("/user")
    assert refused.status_code == 403 and "first login" in refused.get_json()["message"]
