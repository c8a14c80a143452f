"""The Journalist API's actions in the audit log: tokens, downloads, deletions, stars."""

from __future__ import annotations

import json

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.audit.chain import verify
from seethesigns.models import AuditEntry, Submission
from seethesigns.settings import Settings
from seethesigns.staff_accounts import NewStaff
from tests.journalist_interface.api.conftest import ApiClient, request_token
from tests.journalist_interface.conftest import Reported


def log_of(open_db: sessionmaker[Session]) -> list[AuditEntry]:
    """Every entry, oldest first."""
    with open_db() as db:
        return list(db.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_a_client_session_is_recorded_as_via_the_api(
    api: ApiClient,
    alice: NewStaff,
    reported: Reported,
    open_db: sessionmaker[Session],
    settings: Settings,
) -> None:
    """Token, download, star, delete, revoke: each an entry naming alice and "via": "api"."""
    with open_db() as db:
        first, second = db.scalars(select(Submission.uuid).order_by(Submission.id)).all()
    base = f"/sources/{reported.uuid}"
    with api.get(f"{base}/submissions/{first}/download") as downloaded:
        assert downloaded.status_code == 200
    assert api.post(f"{base}/add_star").status_code == 201
    assert api.delete(f"{base}/submissions/{second}").status_code == 200
    assert api.post("/logout").status_code == 200
    entries = log_of(open_db)
    assert [entry.action for entry in entries] == [
        "token.issue",
        "item.download",
        "source.star",
        "item.delete",
        "token.revoke",
    ]
    assert {entry.staff_username for entry in entries} == {"alice"}
    assert all(json.loads(entry.detail)["via"] == "api" for entry in entries)
    assert (entries[1].object_type, entries[1].object_id) == ("submission", first)
    assert (entries[3].object_type, entries[3].object_id) == ("submission", second)
    assert settings.audit_key is not None
    with open_db() as db:
        assert verify(db, settings.audit_key).intact


def test_a_refused_token_request_is_a_failed_login(
    journalist_client: FlaskClient, alice: NewStaff, open_db: sessionmaker[Session]
) -> None:
    """A wrong code names alice; an unknown username is "unknown"; no secret is kept."""
    assert request_token(journalist_client, alice, one_time_code="000000").status_code == 403
    assert request_token(journalist_client, alice, username="nobody-here").status_code == 403
    entries = log_of(open_db)
    assert [(e.action, e.staff_username, json.loads(e.detail)) for e in entries] == [
        ("login.failure", "alice", {"via": "api"}),
        ("login.failure", "unknown", {"via": "api"}),
    ]
    assert alice.passphrase not in repr([e.detail for e in entries])
