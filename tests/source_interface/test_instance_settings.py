"""What the admins' instance settings change for a source: header, files, first message."""

from __future__ import annotations

import io

from flask.testing import FlaskClient

from seethesigns.db import make_engine, make_session_factory
from seethesigns.instance_settings import logo_png
from seethesigns.settings import Settings
from tests.conftest import csrf_token
from tests.seethesigns.test_logos import MARKER, png
from tests.source_interface.conftest import Configure
from tests.source_interface.test_journey import new_source

REPORT = "a man at the park gives my brother money to take bags to another town"


def send(client: FlaskClient, message: str, file: bytes | None = None) -> tuple[int, str]:
    """Submit the form on /lookup; return the status and the page (or redirect target)."""
    page = client.get("/lookup").get_data(as_text=True)
    data: dict[str, object] = {"csrf_token": csrf_token(page), "msg": message}
    if file is not None:
        data["fh"] = (io.BytesIO(file), "photo.jpg")
    response = client.post("/submit", data=data, content_type="multipart/form-data")
    return response.status_code, response.get_data(as_text=True)


def stored_files(settings: Settings) -> list[str]:
    """The encrypted files on disk."""
    return sorted(p.name for p in settings.store_dir.rglob("*.gpg"))


def test_header_shows_the_organisation_and_its_logo(
    source_client: FlaskClient, configure: Configure, settings: Settings
) -> None:
    page = source_client.get("/").get_data(as_text=True)
    assert '<a class="brand" href="/">See the Signs</a>' in page
    assert source_client.get("/logo.png").status_code == 404
    configure(organization_name="Anytown <Safeguarding>", logo=png(text=MARKER) + MARKER)
    page = source_client.get("/").get_data(as_text=True)
    assert '<img src="/logo.png" alt="" class="logo">Anytown &lt;Safeguarding&gt;</a>' in page
    logo = source_client.get("/logo.png")
    assert logo.status_code == 200
    assert logo.mimetype == "image/png"
    assert logo.headers["Cache-Control"] == "no-store"
    assert logo.headers["X-Content-Type-Options"] == "nosniff"
    engine = make_engine(settings.database_url)
    with make_session_factory(engine)() as db:
        assert logo.data == logo_png(db)
    engine.dispose()
    assert MARKER not in logo.data


def test_with_uploads_off_there_is_no_file_input_and_files_are_refused(
    source_client: FlaskClient, configure: Configure, settings: Settings
) -> None:
    new_source(source_client)
    assert 'type="file"' in source_client.get("/lookup").get_data(as_text=True)
    configure(allow_uploads=False)
    assert 'type="file"' not in source_client.get("/lookup").get_data(as_text=True)
    status, page = send(source_client, REPORT, file=b"a photo")
    assert status == 400
    assert "We can't take files here" in page
    assert f">{REPORT}</textarea>" in page  # what they wrote is kept
    assert stored_files(settings) == []
    status, _ = send(source_client, REPORT)
    assert status == 302
    assert len(stored_files(settings)) == 1


def test_a_first_message_must_be_long_enough(
    source_client: FlaskClient, configure: Configure, settings: Settings
) -> None:
    configure(min_message_length=40)
    new_source(source_client)
    status, page = send(source_client, "help me")
    assert status == 400
    assert "at least 40 characters" in page
    assert ">help me</textarea>" in page
    status, _ = send(source_client, "", file=b"a photo")
    assert status == 400
    assert stored_files(settings) == []
    assert send(source_client, REPORT)[0] == 302
    assert send(source_client, "one more thing")[0] == 302  # only the first is held to it
    assert len(stored_files(settings)) == 2


def test_a_first_message_that_is_the_codename_is_refused(
    source_client: FlaskClient, configure: Configure, settings: Settings
) -> None:
    configure(reject_codename_messages=True)
    codename = new_source(source_client)
    status, page = send(source_client, f"  {codename.upper()} ")
    assert status == 400
    assert "That is your codename" in page
    assert codename not in page.lower()  # not echoed back into the page
    assert stored_files(settings) == []
    assert send(source_client, REPORT)[0] == 302


def test_the_codename_goes_through_when_the_setting_is_off(
    source_client: FlaskClient, settings: Settings
) -> None:
    codename = new_source(source_client)
    assert send(source_client, codename)[0] == 302
    assert len(stored_files(settings)) == 1
