"""Admins changing the instance settings, and the logo upload."""

from __future__ import annotations

import html
import io
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from seethesigns.audit import actions
from seethesigns.instance_settings import (
    ReplyPromise,
    WhoReads,
    instance_config,
    reply_promise,
    who_reads,
)
from seethesigns.logos import MAX_LOGO_BYTES, PNG_SIGNATURE
from seethesigns.models import AuditEntry, InstanceConfig
from tests.conftest import csrf_token
from tests.journalist_interface.conftest import page_of
from tests.seethesigns.test_logos import MARKER, png

SETTINGS = {
    "organization_name": "Anytown Children's Services",
    "min_message_length": "25",
    "reject_codename_messages": "yes",
    "retention": "days",
    "retention_days": "90",
}


def save(client: FlaskClient, **fields: str) -> TestResponse:
    """Submit the settings form (unticked boxes are simply absent, as from a browser)."""
    token = csrf_token(page_of(client, "/admin/settings"))
    return client.post("/admin/settings", data={"csrf_token": token, **fields})


def upload(client: FlaskClient, content: bytes, name: str = "logo.png") -> TestResponse:
    """Upload a logo file through the settings page."""
    token = csrf_token(page_of(client, "/admin/settings"))
    return client.post(
        "/admin/settings/logo",
        data={"csrf_token": token, "logo": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def config_now(open_db: sessionmaker[Session]) -> InstanceConfig:
    """The settings row as stored."""
    with open_db() as db:
        return instance_config(db)


def test_settings_are_saved(as_admin: FlaskClient, open_db: sessionmaker[Session]) -> None:
    response = save(as_admin, **SETTINGS)
    assert response.headers["Location"] == "/admin/settings?notice=saved"
    config = config_now(open_db)
    assert config.organization_name == "Anytown Children's Services"
    assert config.allow_uploads is False
    assert config.min_message_length == 25
    assert config.reject_codename_messages is True
    assert config.retention_days == 90
    page = page_of(as_admin, "/admin/settings")
    assert 'value="90"' in page and "Anytown Children&#39;s Services" in page
    save(as_admin, **{**SETTINGS, "retention": "off", "allow_uploads": "yes"})
    config = config_now(open_db)
    assert config.retention_days is None and config.allow_uploads is True


def test_a_bad_value_saves_nothing_and_keeps_what_was_typed(
    as_admin: FlaskClient, open_db: sessionmaker[Session]
) -> None:
    for field, value, message in (
        ("min_message_length", "lots", "the minimum length must be a whole number"),
        ("retention_days", "0", "reports can be kept for 1 to 3650 days"),
        ("organization_name", "", "the organisation name must be 1 to 128"),
    ):
        response = save(as_admin, **{**SETTINGS, field: value})
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert f"Nothing was saved: {message}" in page
        assert 'value="25"' in page or field == "min_message_length"
    config = config_now(open_db)
    assert config.organization_name == "See the Signs" and config.allow_uploads is True


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("retention_days", "\u00b2", "the days must be a whole number"),
        ("retention_days", "\u0669\u0660", "the days must be a whole number"),  # Arabic-Indic
        ("retention_days", "1_0", "the days must be a whole number"),
        ("retention_days", "", "the days must be a whole number"),
        ("retention_days", "99999", "reports can be kept for 1 to 3650 days"),
        ("min_message_length", "\u00b2", "the minimum length must be a whole number"),
        ("min_message_length", "-1", "the minimum length must be a whole number"),
        ("min_message_length", "9" * 5000, "the minimum length must be a whole number"),
        ("min_message_length", "10001", "the minimum length must be between 0 and 10000"),
    ],
    ids=[
        "superscript",
        "arabic-indic",
        "underscore",
        "empty",
        "too-many-days",
        "min-superscript",
        "min-negative",
        "min-huge",
        "min-too-long",
    ],
)
def test_a_number_that_is_not_plain_digits_is_refused_clearly(
    as_admin: FlaskClient, open_db: sessionmaker[Session], field: str, value: str, message: str
) -> None:
    """Issue 10: retention_days="\u00b2" passed str.isdigit(), then int() raised: a 500."""
    response = save(as_admin, **{**SETTINGS, field: value})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f"Nothing was saved: {message}" in page
    # What was typed is still in the form, and the field says it is the one to fix.
    assert "Anytown Children&#39;s Services" in page
    field_tag = re.search(rf'<input id="{field}"[^>]*>', page)
    assert field_tag is not None
    assert f'value="{html.escape(value)}"' in field_tag.group(0)
    assert 'aria-invalid="true"' in field_tag.group(0)
    assert config_now(open_db).organization_name == "See the Signs"


def test_a_logo_that_is_not_a_png_is_refused(
    as_admin: FlaskClient, open_db: sessionmaker[Session]
) -> None:
    for content, name in ((b"GIF89a\x01\x00\x01\x00", "logo.png"), (b"<svg/>", "logo.svg")):
        response = upload(as_admin, content, name)
        assert response.status_code == 400
        assert "Logo not saved: the logo must be a PNG image" in response.get_data(as_text=True)
    assert config_now(open_db).logo_png is None


def test_an_oversized_logo_is_refused(
    as_admin: FlaskClient, open_db: sessionmaker[Session]
) -> None:
    response = upload(as_admin, PNG_SIGNATURE + b"\x00" * MAX_LOGO_BYTES)
    assert response.status_code == 400
    assert "larger than 256 KiB" in response.get_data(as_text=True)
    assert config_now(open_db).logo_png is None


def test_a_logo_is_re_encoded_and_shown_on_both_interfaces(
    as_admin: FlaskClient, source_client: FlaskClient, open_db: sessionmaker[Session]
) -> None:
    crafted = png(text=MARKER) + b"\x00trailer" + MARKER
    response = upload(as_admin, crafted)
    assert response.headers["Location"] == "/admin/settings?notice=logo_saved"
    stored = config_now(open_db).logo_png
    assert stored is not None and stored != crafted and MARKER not in stored
    assert stored.startswith(PNG_SIGNATURE)
    for client in (as_admin, source_client):
        assert '<img src="/logo.png"' in page_of(client, "/")
        with client.get("/logo.png") as logo:
            assert logo.data == stored
    token = csrf_token(page_of(as_admin, "/admin/settings"))
    as_admin.post("/admin/settings/logo/delete", data={"csrf_token": token})
    assert config_now(open_db).logo_png is None
    assert "/logo.png" not in page_of(source_client, "/")


def test_uploading_without_choosing_a_file(as_admin: FlaskClient) -> None:
    token = csrf_token(page_of(as_admin, "/admin/settings"))
    response = as_admin.post("/admin/settings/logo", data={"csrf_token": token})
    assert response.status_code == 400
    assert "choose a PNG file" in response.get_data(as_text=True)


def test_admin_sets_the_urgent_help_shown_on_every_source_page(
    as_admin: FlaskClient, source_client: FlaskClient
) -> None:
    page = as_admin.get("/admin/settings").get_data(as_text=True)
    assert 'value="Childline"' in page
    form = {
        "csrf_token": csrf_token(page),
        "emergency_number": "112",
        "helpline_name": "Telefon Zaufania",
        "helpline_contact": "116 111",
        "anonymous_service_name": "Fearless",
        "anonymous_service_contact": "fearless.org",
        "adult_helpline_name": "Rodzice",
        "adult_helpline_contact": "800 100 100",
    }
    saved = as_admin.post("/admin/settings/urgent-help", data=form)
    assert saved.status_code == 302
    for path in ("/", "/login", "/generate"):
        shown = source_client.get(path).get_data(as_text=True)
        # Numbers are kept on one line with no-break spaces.
        assert "112" in shown and "Telefon Zaufania" in shown and "116\u00a0111" in shown
    refused = as_admin.post("/admin/settings/urgent-help", data={**form, "helpline_name": " "})
    assert refused.status_code == 400
    assert "Not saved" in refused.get_data(as_text=True)
    assert "Telefon Zaufania" in source_client.get("/").get_data(as_text=True)


def test_admin_sets_the_title_and_exit_of_every_source_page(
    as_admin: FlaskClient, source_client: FlaskClient
) -> None:
    page = as_admin.get("/admin/settings").get_data(as_text=True)
    assert 'value="Notes"' in page
    form = {
        "csrf_token": csrf_token(page),
        "site_title": " Maths revision ",
        "exit_url": "https://example.org/timetable",
    }
    saved = as_admin.post("/admin/settings/disguise", data=form)
    assert saved.headers["Location"] == "/admin/settings?notice=disguise_saved"
    for path in ("/", "/login", "/no-such-page"):
        shown = source_client.get(path).get_data(as_text=True)
        assert re.findall(r"<title>(.*?)</title>", shown) == ["Maths revision"], path
    assert source_client.get("/exit").headers["Location"] == "https://example.org/timetable"

    for field, bad in [
        ("exit_url", "javascript:alert(1)"),
        ("exit_url", "/somewhere/here"),
        ("exit_url", "https://"),
        ("site_title", " "),
        ("site_title", "x" * 65),
    ]:
        refused = as_admin.post("/admin/settings/disguise", data={**form, field: bad})
        assert refused.status_code == 400, (field, bad)
        text = refused.get_data(as_text=True)
        assert "Not saved" in text and html.escape(bad, quote=True) in text, (field, bad)
    assert source_client.get("/exit").headers["Location"] == "https://example.org/timetable"


def test_admin_sets_the_reply_time_and_the_waiting_page(
    as_admin: FlaskClient, open_db: sessionmaker[Session]
) -> None:
    page = as_admin.get("/admin/settings").get_data(as_text=True)
    assert 'name="reply_within_hours"' in page and 'value="24"' in page
    form = {
        "csrf_token": csrf_token(page),
        "reply_within_hours": "48",
        "wait_minutes": "5",
        "readers": "a team of social workers",
        "shared_with": "the police, or a doctor or nurse",
    }  # the box unticked: waiting is not offered
    saved = as_admin.post("/admin/settings/replies", data=form)
    assert saved.headers["Location"] == "/admin/settings?notice=replies_saved"
    with open_db() as db:
        assert reply_promise(db) == ReplyPromise(48, wait_offered=False, wait_minutes=5)

    for field, bad in [
        ("reply_within_hours", "0"),
        ("reply_within_hours", "337"),
        ("reply_within_hours", "two"),
        ("reply_within_hours", "١٢"),  # Arabic-Indic digits are not taken as a number
        ("wait_minutes", "31"),
        ("wait_minutes", ""),
    ]:
        refused = as_admin.post(
            "/admin/settings/replies", data={**form, field: bad, "wait_offered": "1"}
        )
        assert refused.status_code == 400, (field, bad)
        assert "Not saved" in refused.get_data(as_text=True), (field, bad)
    with open_db() as db:
        assert reply_promise(db) == ReplyPromise(48, wait_offered=False, wait_minutes=5)


def test_admin_states_who_reads_reports_and_sources_are_told(
    as_admin: FlaskClient, source_client: FlaskClient, open_db: sessionmaker[Session]
) -> None:
    """Issue 14: the partnership's own words for who reads a report and who may be told."""
    page = as_admin.get("/admin/settings").get_data(as_text=True)
    assert 'value="a team of social workers"' in page
    assert 'value="the police, or a doctor or nurse"' in page
    form = {
        "csrf_token": csrf_token(page),
        "reply_within_hours": "24",
        "wait_minutes": "10",
        "wait_offered": "1",
        "readers": "  the Anytown MASH: social workers & nurses  ",
        "shared_with": "Essex Police or the school nurse",
    }
    saved = as_admin.post("/admin/settings/replies", data=form)
    assert saved.headers["Location"] == "/admin/settings?notice=replies_saved"
    with open_db() as db:
        assert who_reads(db) == WhoReads(
            "the Anytown MASH: social workers & nurses", "Essex Police or the school nurse"
        )
        change = db.scalars(select(AuditEntry).where(AuditEntry.action == "settings.replies")).one()
    assert "Anytown MASH" in change.detail and "Essex Police" in change.detail
    landing = source_client.get("/").get_data(as_text=True)
    # Escaped, and isolated so that an English name reads right on an Arabic page.
    assert "read by <bdi>the Anytown MASH: social workers &amp; nurses</bdi>." in landing
    assert "share what you sent with <bdi>Essex Police or the school nurse</bdi>" in landing
    assert "a team of social workers" not in landing

    for field, bad in [
        ("readers", ""),
        ("readers", "   "),
        ("readers", "x" * 121),
        ("readers", "<b>the police</b>"),
        ("shared_with", "the police\u202e"),  # a bidi override is not printable
        ("shared_with", "police\nand health"),
    ]:
        refused = as_admin.post("/admin/settings/replies", data={**form, field: bad})
        assert refused.status_code == 400, (field, bad)
        text = refused.get_data(as_text=True)
        assert "Not saved" in text and "without &lt; or &gt;" in text, (field, bad)
    with open_db() as db:
        assert who_reads(db).shared_with == "Essex Police or the school nurse"
        assert (
            len(list(db.scalars(select(AuditEntry).where(AuditEntry.action == "settings.replies"))))
            == 1
        )


def test_the_adult_helpline_is_one_of_the_urgent_help_services(as_admin: FlaskClient) -> None:
    page = as_admin.get("/admin/settings").get_data(as_text=True)
    assert 'value="NSPCC"' in page and 'value="0808 800 5000"' in page


def test_admin_requires_tor_for_the_https_front(
    as_admin: FlaskClient, open_db: sessionmaker[Session]
) -> None:
    assert config_now(open_db).require_tor is False
    page = page_of(as_admin, "/admin/settings")
    assert 'id="require_tor"' in page and "Require Tor Browser" in page
    save(as_admin, **SETTINGS, require_tor="yes")
    assert config_now(open_db).require_tor is True
    assert re.search(r'id="require_tor"[^>]*\s+checked', page_of(as_admin, "/admin/settings"))
    with open_db() as db:
        entry = db.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == actions.SETTINGS_UPDATE)
            .order_by(AuditEntry.id.desc())
        ).first()
    assert entry is not None and '"require_tor":true' in entry.detail
    save(as_admin, **SETTINGS)
    assert config_now(open_db).require_tor is False
