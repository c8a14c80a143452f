"""Sending reports through the real source interface, and staff who asked for alerts."""

from __future__ import annotations

import io

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.models import Source
from seethesigns.settings import Settings
from seethesigns.staff_accounts import NewStaff, StaffAccounts
from seethesigns.web.setup import db
from tests.conftest import activate, csrf_token
from tests.source_interface.test_journey import new_source


def send_report(
    source_app: Flask,
    *,
    urgent: bool,
    message: str = "they make me carry things",
    filename: str | None = None,
) -> str:
    """A report from a new source in a browser of its own (a message, and a file if named),
    ticked urgent or not; returns the source's designation."""
    client = source_app.test_client()
    new_source(client)
    page = client.get("/lookup").get_data(as_text=True)
    data: dict[str, object] = {"csrf_token": csrf_token(page), "msg": message}
    if urgent:
        data["urgent"] = "1"
    if filename is not None:
        data["fh"] = (io.BytesIO(b"file body " + message.encode()), filename)
    response = client.post("/submit", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    with source_app.app_context():
        return str(db().scalars(select(Source.designation).order_by(Source.id.desc())).first())


def staff_with_alerts(
    open_db: sessionmaker[Session], settings: Settings, username: str, address: str | None
) -> NewStaff:
    """A staff account that asked for alerts at address (None: did not ask)."""
    with open_db() as db:
        account = StaffAccounts(settings.argon2, settings.login).create(db, username, False)
        staff = db.merge(account.staff)
        activate(db, staff)  # as if its first login were done
        staff.alerts_enabled = address is not None
        staff.alert_address = address
        db.commit()
    return account
