"""The audit log through the real staff app: what each action records, and the admin's page."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.audit.chain import verify
from seethesigns.models import AuditEntry, Submission
from seethesigns.settings import Settings, SettingsError
from seethesigns.staff_accounts import NewStaff
from tests.conftest import csrf_token
from tests.databases import run_sql
from tests.journalist_interface.conftest import (
    MESSAGE,
    Reported,
    add_staff,
    download_links,
    log_in,
    page_of,
    reauthenticate,
    secrets_on,
    submit,
)
from tests.journalist_interface.test_bulk import post as bulk_post
from tests.seethesigns.test_cli import run

REPLY = "we are here for you, you did the right thing"
# What a request carries that must never reach the log (issue 13: nothing identifying).
ADDRESS = "203.0.113.77"
AGENT = "DistinctiveAgent/4.2 (audit test)"


def log_of(open_db: sessionmaker[Session]) -> list[AuditEntry]:
    """Every entry, oldest first."""
    with open_db() as db:
        return list(db.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def actions_of(open_db: sessionmaker[Session]) -> list[str]:
    """The actions recorded, oldest first."""
    return [entry.action for entry in log_of(open_db)]


def everything_written(open_db: sessionmaker[Session]) -> str:
    """Every column of every entry as one text, to look for what must not be there."""
    return "\n".join(
        repr([getattr(entry, column.name) for column in AuditEntry.__table__.columns])
        for entry in log_of(open_db)
    )


def intact(open_db: sessionmaker[Session], settings: Settings) -> bool:
    """Whether the chain checks out with the instance's key."""
    assert settings.audit_key is not None
    with open_db() as db:
        return verify(db, settings.audit_key).intact


def test_a_shift_is_recorded_step_by_step_and_verifies(
    journalist_client: FlaskClient,
    alice: NewStaff,
    reported: Reported,
    open_db: sessionmaker[Session],
    settings: Settings,
) -> None:
    """Log in, download, reply, change status, delete, log out: each step, in order, and
    `audit verify` passes, then finds the one row changed behind the app's back."""
    client = journalist_client
    client.environ_base.update({"REMOTE_ADDR": ADDRESS, "HTTP_USER_AGENT": AGENT})
    assert log_in(client, alice).status_code == 302
    conversation = f"/sources/{reported.uuid}"
    first = download_links(page_of(client, conversation))[0]
    with client.get(first) as downloaded:
        assert downloaded.status_code == 200
    reply = submit(client, conversation, f"{conversation}/reply", message=REPLY)
    assert reply.status_code == 302
    status = submit(client, conversation, f"{conversation}/case", status="in_review", note="")
    assert status.status_code == 302
    with open_db() as db:
        doomed = db.scalars(select(Submission.uuid).order_by(Submission.id)).all()[-1]
    deleted = submit(client, conversation, f"{conversation}/items/{doomed}/delete")
    assert deleted.status_code == 302
    logout = submit(client, "/", "/logout")
    assert logout.status_code == 302

    entries = log_of(open_db)
    assert [entry.action for entry in entries] == [
        "login.success",
        "item.download",
        "reply.send",
        "case.status",
        "item.delete",
        "logout",
    ]
    assert {(entry.staff_id, entry.staff_username) for entry in entries} == {
        (alice.staff.id, "alice")
    }
    download, _, status_change, deletion = entries[1:5]
    assert download.object_type == "submission" and first.endswith(
        f"/items/{download.object_id}/download"
    )
    assert json.loads(download.detail)["source"] == reported.designation
    assert json.loads(status_change.detail) == {
        "source": reported.designation,
        "status": "in_review",
        "was": "new",
    }
    assert (deletion.object_type, deletion.object_id) == ("submission", doomed)
    written = everything_written(open_db)
    for secret in (MESSAGE, REPLY, reported.codename, ADDRESS, AGENT, alice.passphrase):
        assert secret not in written

    config = str(settings.data_dir / "seethesigns.toml")
    passed = run("audit", "verify", "--config", config)
    assert passed.exit_code == 0, passed.output
    assert "Audit log intact: 6 entries" in passed.output
    run_sql(settings.database_url, "UPDATE audit_entries SET staff_username = 'bob' WHERE id = 2")
    failed = run("audit", "verify", "--config", config)
    assert failed.exit_code == 1
    assert "Audit log BROKEN at entry 2" in failed.output


def test_failed_logins_name_an_existing_account_only(
    journalist_client: FlaskClient, alice: NewStaff, open_db: sessionmaker[Session]
) -> None:
    """A wrong passphrase for alice names alice; a made-up username is "unknown"; neither
    keeps what was typed as the passphrase or code."""
    wrong = log_in(journalist_client, alice, passphrase="not her passphrase at all")
    assert wrong.status_code == 401
    made_up = log_in(journalist_client, alice, username="mallory-guess", token="123456")
    assert made_up.status_code == 401
    entries = log_of(open_db)
    assert [(e.action, e.staff_id, e.staff_username) for e in entries] == [
        ("login.failure", alice.staff.id, "alice"),
        ("login.failure", None, "unknown"),
    ]
    written = everything_written(open_db)
    for typed in ("not her passphrase at all", "mallory-guess", "123456"):
        assert typed not in written


def test_label_note_and_assignment_are_recorded_without_their_text(
    logged_in: FlaskClient,
    reported: Reported,
    open_db: sessionmaker[Session],
    settings: Settings,
) -> None:
    """Who changed a case and what kind of change; not the note's or label's words."""
    bob = add_staff(open_db, settings, "bob")
    page = f"/sources/{reported.uuid}"
    note = "worried about the older brother"
    saved = submit(
        logged_in, page, f"{page}/case", status="new", assignee=bob.staff.uuid, note=note
    )
    assert saved.status_code == 302
    assert submit(logged_in, page, f"{page}/labels", label="county lines").status_code == 302
    assert submit(logged_in, page, f"{page}/labels/remove", label="county lines").status_code == 302
    entries = log_of(open_db)[1:]
    assert [entry.action for entry in entries] == [
        "case.assign",
        "case.note",
        "label.add",
        "label.remove",
    ]
    assert json.loads(entries[0].detail)["assignee"] == "bob"
    written = everything_written(open_db)
    assert note not in written and "county lines" not in written


def test_admin_actions_are_recorded(
    reauthed_admin: FlaskClient, root: NewStaff, open_db: sessionmaker[Session]
) -> None:
    """Adding and deleting an account, and changing settings, each leave an entry."""
    added = submit(reauthed_admin, "/admin/staff/new", "/admin/staff/new", username="carol")
    assert added.status_code == 200
    with open_db() as db:
        carol = db.scalars(select(AuditEntry).where(AuditEntry.action == "staff.add")).one()
    gone = submit(
        reauthed_admin,
        f"/admin/staff/{carol.object_id}",
        f"/admin/staff/{carol.object_id}/delete",
        confirm="yes",
    )
    assert gone.status_code == 302
    disguise = submit(
        reauthed_admin,
        "/admin/settings",
        "/admin/settings/disguise",
        site_title="Homework",
        exit_url="https://example.org/",
    )
    assert disguise.status_code == 302
    assert actions_of(open_db) == [
        "login.success",
        "reauth.success",
        "staff.add",
        "staff.delete",
        "settings.disguise",
    ]
    entries = log_of(open_db)
    assert json.loads(entries[3].detail) == {"username": "carol"}
    assert json.loads(entries[4].detail)["site_title"] == "Homework"
    assert entries[4].staff_username == "root"


def test_the_log_page_is_for_admins_only(
    journalist_client: FlaskClient, alice: NewStaff, open_db: sessionmaker[Session]
) -> None:
    """Nobody logged in is sent to log in; a staff member who is not an admin gets 403."""
    for path in ("/admin/audit", "/admin/audit/export.csv"):
        response = journalist_client.get(path)
        assert response.status_code == 302 and response.location.endswith("/login")
    assert journalist_client.post("/admin/audit/retention").status_code in (302, 400)
    assert log_in(journalist_client, alice).status_code == 302
    for path in ("/admin/audit", "/admin/audit/export.csv"):
        assert journalist_client.get(path).status_code == 403
    token = csrf_token(page_of(journalist_client, "/"))
    refused = journalist_client.post(
        "/admin/audit/retention", data={"csrf_token": token, "audit_retention_days": "30"}
    )
    assert refused.status_code == 403
    assert actions_of(open_db) == ["login.success"]


ROW = re.compile(r'<tr class="audit-entry">\s*<td>(\d+)</td>')


def test_admins_page_through_and_filter_the_log_newest_first(
    as_admin: FlaskClient, root: NewStaff, alice: NewStaff, open_db: sessionmaker[Session]
) -> None:
    """Newest first, 50 a page; filters by staff member, action and dates; viewing is logged."""
    for _ in range(30):
        assert log_in(as_admin.application.test_client(), alice, passphrase="wrong").status_code
    first = page_of(as_admin, "/admin/audit")
    shown = [int(number) for number in ROW.findall(first)]
    assert shown == list(range(32, 0, -1))  # 1 login, 30 failures, this view
    assert "login.failure" in first
    filtered = page_of(as_admin, "/admin/audit?staff=root&action=login.success")
    assert [int(n) for n in ROW.findall(filtered)] == [1]
    today = datetime.now(UTC).date()  # the log filters by UTC days
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert ROW.findall(page_of(as_admin, f"/admin/audit?since={tomorrow}")) == []
    assert len(ROW.findall(page_of(as_admin, f"/admin/audit?until={today}"))) == 35
    for _ in range(20):
        page_of(as_admin, "/admin/audit?action=logout")
    older = page_of(as_admin, "/admin/audit?page=2")
    assert ROW.findall(older)[0] == str(56 - 50)
    views = log_of(open_db)[-1]
    assert (views.action, views.staff_username) == ("audit.view", "root")
    assert json.loads(views.detail) == {"filters": {}, "page": 2}


def test_the_csv_export_is_logged_and_defuses_formulas(
    journalist_client: FlaskClient,
    root: NewStaff,
    open_db: sessionmaker[Session],
    settings: Settings,
) -> None:
    """A username a spreadsheet would run (=HYPERLINK...) comes out as text; exporting is
    itself an entry."""
    sly = add_staff(open_db, settings, '=HYPERLINK("http://x.invalid","click")')
    assert log_in(journalist_client.application.test_client(), sly).status_code == 302
    assert log_in(journalist_client, root).status_code == 302
    response = journalist_client.get("/admin/audit/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:5] == ["id", "occurred_at_utc", "staff_id", "staff_username", "action"]
    by_action = {row[4]: row for row in rows[1:]}
    assert by_action["login.success"][3] in ("root", '\'=HYPERLINK("http://x.invalid","click")')
    usernames = {row[3] for row in rows[1:]}
    assert '\'=HYPERLINK("http://x.invalid","click")' in usernames
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert actions_of(open_db)[-1] == "audit.export"
    assert intact(open_db, settings)


def test_admins_set_the_audit_retention_separately(
    as_admin: FlaskClient, open_db: sessionmaker[Session]
) -> None:
    """The setting takes 30 to 3650 days, is shown on the page, and the change is logged."""
    page = "/admin/audit"
    refused = submit(as_admin, page, "/admin/audit/retention", audit_retention_days="7")
    assert refused.status_code == 400 and "30 to 3650 days" in refused.get_data(as_text=True)
    saved = submit(as_admin, page, "/admin/audit/retention", audit_retention_days="365")
    assert saved.status_code == 302
    assert 'value="365"' in page_of(as_admin, page)
    change = [e for e in log_of(open_db) if e.action == "settings.audit_retention"]
    assert [json.loads(e.detail) for e in change] == [{"days": 365, "was": 730}]


@pytest.mark.parametrize("path", ["/admin/audit", "/admin/audit/export.csv"])
def test_viewing_or_exporting_adds_an_entry(
    as_admin: FlaskClient, open_db: sessionmaker[Session], path: str
) -> None:
    """Reading the record of who did what is itself on the record."""
    before = len(log_of(open_db))
    response = as_admin.get(path + "?action=logout")
    assert response.status_code == 200
    response.get_data()
    after = log_of(open_db)
    assert len(after) == before + 1
    assert json.loads(after[-1].detail)["filters"] == {"action": "logout"}


def test_the_staff_app_refuses_to_start_without_the_audit_key(settings: Settings) -> None:
    """No key, no app: staff actions must never go unrecorded."""
    from journalist_interface import create_app

    with pytest.raises(SettingsError, match="seethesigns migrate"):
        create_app(dataclasses.replace(settings, audit_key=None))


def test_bulk_zip_star_and_delete_are_recorded_per_source(
    logged_in: FlaskClient, reported: Reported, open_db: sessionmaker[Session]
) -> None:
    """A zip names the sources ticked; starring and deleting leave one entry per source."""
    ticked = {"source": [reported.uuid]}
    assert bulk_post(logged_in, "/bulk/sources", {"action": "star", **ticked}).status_code == 302
    zipped = bulk_post(logged_in, "/bulk/sources", {"action": "download", **ticked})
    assert zipped.status_code == 200
    zipped.get_data()
    assert bulk_post(logged_in, "/bulk/unread", {}).status_code == 200
    gone = bulk_post(logged_in, "/bulk/sources", {"action": "delete", "confirm": "yes", **ticked})
    assert gone.status_code == 302
    entries = log_of(open_db)[1:]
    assert [e.action for e in entries] == [
        "source.star",
        "export.zip",
        "export.zip",
        "source.delete",
    ]
    assert json.loads(entries[1].detail) == {
        "name": "sources",
        "sources": [reported.uuid],
        "items": [],
    }
    assert json.loads(entries[2].detail)["name"] == "unread"
    assert (entries[3].object_id, json.loads(entries[3].detail)) == (
        reported.uuid,
        {"designation": reported.designation},
    )


def test_a_zip_from_a_source_page_names_that_source(
    logged_in: FlaskClient, reported: Reported, open_db: sessionmaker[Session]
) -> None:
    """Download all, or the ticked items, on a source's page: the entry's object is the source.

    Without it the log said only that some zip was taken, not whose reports went out.
    """
    path = f"/sources/{reported.uuid}/items/bulk"
    with open_db() as db:
        (item,) = db.scalars(select(Submission.uuid).limit(1))
    for form in ({"action": "download_all"}, {"action": "download", "item": [item]}):
        zipped = bulk_post(logged_in, path, form)
        assert zipped.status_code == 200
        zipped.get_data()
    entries = log_of(open_db)[-2:]
    assert [(e.action, e.object_type, e.object_id) for e in entries] == [
        ("export.zip", "source", reported.uuid),
        ("export.zip", "source", reported.uuid),
    ]
    assert json.loads(entries[1].detail)["items"] == [item]


def test_own_account_changes_are_recorded(
    logged_in: FlaskClient, alice: NewStaff, open_db: sessionmaker[Session]
) -> None:
    """Renaming oneself and a new passphrase are on the record, the secret is not."""
    renamed = submit(logged_in, "/account", "/account/name", display_name="Alice K")
    assert renamed.status_code == 302
    assert reauthenticate(logged_in, alice).status_code == 302
    fresh = submit(logged_in, "/account", "/account/passphrase")
    assert fresh.status_code == 200
    passphrase, _ = secrets_on(fresh.get_data(as_text=True))
    assert passphrase
    assert actions_of(open_db) == [
        "login.success",
        "account.rename",
        "reauth.success",
        "account.passphrase",
    ]
    assert passphrase not in everything_written(open_db)
