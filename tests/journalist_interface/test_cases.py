"""Case handling on a source's page: the forms, what they show, and what they refuse."""

from __future__ import annotations

import html
import secrets

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from seethesigns.cases import MAX_NOTE_CHARS
from seethesigns.models import Case, Source
from seethesigns.settings import Settings
from seethesigns.staff_accounts import NewStaff
from tests.conftest import csrf_token
from tests.journalist_interface.conftest import Reported, add_staff, page_of
from tests.journalist_interface.test_sources import send_reply
from tests.seethesigns.test_db import holding


def post_case(client: FlaskClient, reported: Reported, path: str, **data: str) -> TestResponse:
    """Submit one of the case forms on a source's page."""
    page = page_of(client, f"/sources/{reported.uuid}")
    return client.post(
        f"/sources/{reported.uuid}{path}", data={"csrf_token": csrf_token(page), **data}
    )


def test_status_assignee_and_note_are_saved_and_shown(
    logged_in: FlaskClient,
    reported: Reported,
    open_db: sessionmaker[Session],
    settings: Settings,
    alice: NewStaff,
) -> None:
    bob = add_staff(open_db, settings, "bob")
    response = post_case(
        logged_in,
        reported,
        "/case",
        status="referred",
        assignee=bob.staff.uuid,
        note="Told <MASH>.",
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/sources/{reported.uuid}?notice=case_saved#case"
    page = page_of(logged_in, f"/sources/{reported.uuid}?notice=case_saved")
    assert "Case saved." in page
    assert '<option value="referred" selected>Referred</option>' in page
    assert f'<option value="{bob.staff.uuid}" selected>bob</option>' in page
    assert f'<option value="{alice.staff.uuid}">alice (you)</option>' in page
    assert ">Told &lt;MASH&gt;.</textarea>" in page
    listing = page_of(logged_in, "/")
    assert "<td>Referred</td>" in listing and "<td>bob</td>" in listing
    with open_db() as db:
        source = db.query(Source).one()
        case = db.get(Case, source.id)
        assert case is not None and (case.status, case.assignee_id) == ("referred", bob.staff.id)


def test_a_refused_case_keeps_the_note_typed(logged_in: FlaskClient, reported: Reported) -> None:
    long_note = "n" * (MAX_NOTE_CHARS + 1)
    response = post_case(logged_in, reported, "/case", status="in_review", note=long_note)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f"Not saved: a note can be at most {MAX_NOTE_CHARS} characters." in page
    assert f">{long_note}</textarea>" in page
    bad = post_case(logged_in, reported, "/case", status="lost", note="")
    assert bad.status_code == 400
    assert "choose one of the listed statuses" in bad.get_data(as_text=True)
    gone = post_case(logged_in, reported, "/case", status="new", assignee="nobody-uuid")
    assert gone.status_code == 400
    page = page_of(logged_in, f"/sources/{reported.uuid}")
    assert '<option value="new" selected>New</option>' in page  # nothing was changed


def test_labels_are_added_listed_filtered_and_removed(
    logged_in: FlaskClient, reported: Reported
) -> None:
    assert post_case(logged_in, reported, "/labels", label=" County  LINES ").status_code == 302
    page = page_of(logged_in, f"/sources/{reported.uuid}")
    assert '<a class="label" href="/?label=county+lines">county lines</a>' in page
    assert reported.designation in page_of(logged_in, "/?label=county+lines")
    assert "No sources match." in page_of(logged_in, "/?label=other")
    refused = post_case(logged_in, reported, "/labels", label="   ")
    assert refused.status_code == 400
    assert "Not changed: a label cannot be empty." in refused.get_data(as_text=True)
    response = post_case(logged_in, reported, "/labels/remove", label="county lines")
    assert response.headers["Location"] == f"/sources/{reported.uuid}?notice=label_removed#case"
    assert "No labels." in page_of(logged_in, f"/sources/{reported.uuid}")


def test_case_forms_refuse_unknown_sources_and_missing_tokens(
    logged_in: FlaskClient, reported: Reported
) -> None:
    page = page_of(logged_in, f"/sources/{reported.uuid}")
    for path in ("/case", "/labels", "/labels/remove"):
        missing = logged_in.post(
            f"/sources/00000000-0000-4000-8000-000000000000{path}",
            data={"csrf_token": csrf_token(page), "status": "new", "label": "x"},
        )
        assert missing.status_code == 404
        unsigned = logged_in.post(f"/sources/{reported.uuid}{path}", data={"status": "closed"})
        assert unsigned.status_code == 400
    assert '<option value="new" selected>New</option>' in page_of(
        logged_in, f"/sources/{reported.uuid}"
    )
    assert html.escape("For staff only") in page


def test_the_source_never_sees_case_metadata(
    logged_in: FlaskClient,
    source_app: Flask,
    source_client: FlaskClient,
    reported: Reported,
    alice: NewStaff,
) -> None:
    secrets = ["Referred", "zebra-crossing-label", "note-for-staff-eyes-only", "alice", "Starred"]
    post_case(
        logged_in, reported, "/case", status="referred", assignee=alice.staff.uuid, note=secrets[2]
    )
    post_case(logged_in, reported, "/labels", label=secrets[1])
    post_case(logged_in, reported, "/labels/remove", label="none")
    page = page_of(logged_in, "/")
    logged_in.post(
        "/bulk/sources",
        data={"csrf_token": csrf_token(page), "action": "star", "source": reported.uuid},
    )
    assert all(secret in page_of(logged_in, "/") for secret in secrets[:2])
    assert send_reply(logged_in, reported, "We are looking into it.").status_code == 302
    # Every page the logged-in source can GET, with the reply there to prove it is their view.
    paths = [
        rule.rule
        for rule in source_app.url_map.iter_rules()
        if "GET" in (rule.methods or set()) and not rule.arguments and rule.endpoint != "static"
    ]
    assert "/lookup" in paths and len(paths) >= 5
    lookup = page_of(source_client, "/lookup")
    assert "We are looking into it." in lookup
    for path in sorted(paths, key=lambda p: p == "/logout"):  # logging out last
        response = source_client.get(path)
        shown = response.get_data(as_text=True) + str(response.headers)
        for secret in secrets:
            assert secret.lower() not in shown.lower(), (path, secret)


@pytest.mark.sqlite_only
def test_a_deleted_source_leaves_no_note_or_label_in_any_database_file(
    logged_in: FlaskClient, reported: Reported, settings: Settings
) -> None:
    note, label = f"note-{secrets.token_hex(8)}", f"label-{secrets.token_hex(8)}"
    post_case(logged_in, reported, "/case", status="in_review", assignee="", note=note)
    post_case(logged_in, reported, "/labels", label=label)
    assert holding(note, settings) and holding(label, settings)  # so the check below can fail
    response = post_case(logged_in, reported, "/delete", confirm="yes")
    assert response.status_code == 302
    assert holding(note, settings) == []
    assert holding(label, settings) == []


@pytest.mark.sqlite_only
def test_a_replaced_note_and_a_removed_label_leave_no_copy(
    logged_in: FlaskClient, reported: Reported, settings: Settings
) -> None:
    note, label = f"note-{secrets.token_hex(8)}", f"label-{secrets.token_hex(8)}"
    post_case(logged_in, reported, "/case", status="new", assignee="", note=note)
    post_case(logged_in, reported, "/labels", label=label)
    assert holding(note, settings) and holding(label, settings)
    post_case(logged_in, reported, "/case", status="new", assignee="", note="Called the school.")
    post_case(logged_in, reported, "/labels/remove", label=label)
    assert holding(note, settings) == []
    assert holding(label, settings) == []
