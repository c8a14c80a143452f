"""The admin Keys page (issue 14): adding and retiring recipients, and who each item is for."""

from __future__ import annotations

import gnupg
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.models import AuditEntry, Recipient
from seethesigns.recipients import CONFIGURED_NAME
from seethesigns.staff_accounts import NewStaff
from tests.conftest import OfflineKey, SpareKeys, csrf_token
from tests.journalist_interface.conftest import Reported, page_of, submit

PAGE = "/admin/recipients"


def grouped(fingerprint: str) -> str:
    return " ".join(fingerprint[i : i + 4] for i in range(0, 40, 4))


def recipients(open_db: sessionmaker[Session]) -> list[tuple[str, bool]]:
    """Each recipient's name and whether it is active."""
    with open_db() as db:
        rows = db.scalars(select(Recipient).order_by(Recipient.id))
        return [(row.name, row.retired_at is None) for row in rows]


def audited(open_db: sessionmaker[Session], action: str) -> list[AuditEntry]:
    with open_db() as db:
        return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def add_on_call(client: FlaskClient, spare_keys: SpareKeys) -> None:
    """Add the on-call key through the page, as a re-authenticated admin."""
    response = submit(
        client, PAGE, f"{PAGE}/new", name="On call", public_key=spare_keys.on_call.public_key
    )
    assert response.status_code == 302


def test_the_page_lists_the_configured_key_in_groups_of_four(
    as_admin: FlaskClient, open_db: sessionmaker[Session], offline_key: OfflineKey
) -> None:
    page = page_of(as_admin, PAGE)
    assert grouped(offline_key.fingerprint) in page
    assert recipients(open_db) == [(CONFIGURED_NAME, True)]


def test_staff_who_are_not_admins_cannot_see_or_use_it(
    as_bob: FlaskClient, open_db: sessionmaker[Session], spare_keys: SpareKeys
) -> None:
    assert as_bob.get(PAGE).status_code == 403
    response = as_bob.post(f"{PAGE}/new", data={"name": "x", "public_key": "y"})
    assert response.status_code in (400, 403)
    assert all(name != "x" for name, _ in recipients(open_db))


def test_adding_needs_a_recent_reauthentication(
    as_admin: FlaskClient, open_db: sessionmaker[Session], spare_keys: SpareKeys
) -> None:
    response = submit(
        as_admin, PAGE, f"{PAGE}/new", name="On call", public_key=spare_keys.on_call.public_key
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/reauthenticate"
    assert recipients(open_db) == [(CONFIGURED_NAME, True)]


def test_adding_and_retiring_with_reauthentication(
    reauthed_admin: FlaskClient,
    open_db: sessionmaker[Session],
    offline_key: OfflineKey,
    spare_keys: SpareKeys,
) -> None:
    response = submit(
        reauthed_admin,
        PAGE,
        f"{PAGE}/new",
        name="On call",
        public_key=spare_keys.on_call.public_key,
    )
    assert response.status_code == 302
    page = page_of(reauthed_admin, response.headers["Location"])
    assert "The key was added" in page
    assert grouped(spare_keys.on_call.fingerprint) in page
    assert recipients(open_db) == [(CONFIGURED_NAME, True), ("On call", True)]
    (entry,) = audited(open_db, "recipient.add")
    assert (entry.object_type, entry.object_id) == ("recipient", spare_keys.on_call.fingerprint)

    response = submit(reauthed_admin, PAGE, f"{PAGE}/{offline_key.fingerprint}/retire")
    assert response.status_code == 302
    assert recipients(open_db) == [(CONFIGURED_NAME, False), ("On call", True)]
    (entry,) = audited(open_db, "recipient.retire")
    assert entry.object_id == offline_key.fingerprint
    # The last active key cannot go: nothing new could be encrypted.
    response = submit(reauthed_admin, PAGE, f"{PAGE}/{spare_keys.on_call.fingerprint}/retire")
    assert response.status_code == 400
    assert "last active key" in response.get_data(as_text=True)
    assert recipients(open_db) == [(CONFIGURED_NAME, False), ("On call", True)]


def test_a_secret_key_is_refused(
    reauthed_admin: FlaskClient, open_db: sessionmaker[Session], spare_keys: SpareKeys
) -> None:
    secret = gnupg.GPG(gnupghome=str(spare_keys.second.homedir)).export_keys(
        spare_keys.second.fingerprint, secret=True, passphrase=""
    )
    response = submit(reauthed_admin, PAGE, f"{PAGE}/new", name="Oops", public_key=secret)
    assert response.status_code == 400
    assert "SECRET key" in response.get_data(as_text=True)
    assert recipients(open_db) == [(CONFIGURED_NAME, True)]
    assert audited(open_db, "recipient.add") == []


def test_a_post_without_csrf_token_is_refused(
    reauthed_admin: FlaskClient,
    open_db: sessionmaker[Session],
    offline_key: OfflineKey,
    spare_keys: SpareKeys,
) -> None:
    page_of(reauthed_admin, PAGE)
    data = {"name": "On call", "public_key": spare_keys.on_call.public_key}
    assert reauthed_admin.post(f"{PAGE}/new", data=data).status_code == 400
    assert reauthed_admin.post(f"{PAGE}/{offline_key.fingerprint}/retire").status_code == 400
    assert recipients(open_db) == [(CONFIGURED_NAME, True)]


def test_the_source_page_names_the_keys_of_each_item(
    reauthed_admin: FlaskClient,
    root: NewStaff,
    source_client: FlaskClient,
    open_db: sessionmaker[Session],
    offline_key: OfflineKey,
    spare_keys: SpareKeys,
    reported: Reported,
) -> None:
    submit(
        reauthed_admin,
        PAGE,
        f"{PAGE}/new",
        name="On call",
        public_key=spare_keys.on_call.public_key,
    )
    submit(reauthed_admin, PAGE, f"{PAGE}/{offline_key.fingerprint}/retire")
    page = page_of(source_client, "/lookup")
    response = source_client.post(
        "/submit", data={"csrf_token": csrf_token(page), "msg": "after the rotation"}
    )
    assert response.status_code == 302
    page = page_of(reauthed_admin, f"/sources/{reported.uuid}")
    shown = [
        line.split("Encrypted to: ")[1].split("<")[0]
        for line in page.splitlines()
        if "Encrypted to: " in line
    ]
    assert shown == [CONFIGURED_NAME, CONFIGURED_NAME, "On call"]
