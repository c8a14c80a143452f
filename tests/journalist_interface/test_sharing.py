"""Sharing a case with the police across the cryptographic boundary, end to end (issue 14).

The front door downloads the case and the police team's keys; the real workstation opens the
export with the front door's key and shares one message, edited, with the police team's keys;
the package is uploaded; a police account downloads the shared copy and only the police key
opens it. Packages for the wrong team, with an extra recipient, or of junk are refused,
change nothing, and the refusal is on record.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.models import AuditEntry, Submission
from seethesigns.settings import Settings
from tests.conftest import OfflineKey, SpareKeys, csrf_token
from tests.journalist_interface.conftest import MESSAGE, Mash, client_of, page_of
from tests.journalist_interface.test_route_guards import snapshot
from tests.workstation.conftest import run_cli

EDITED = "[details removed by the front door]"


@pytest.fixture
def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An EDITOR that replaces the whole message, as a worker taking details out would."""
    script = tmp_path / "editor.sh"
    script.write_text(f"#!/bin/sh\nprintf '%s\\n' '{EDITED}' > \"$1\"\n")
    script.chmod(0o700)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(script))


def download(client: FlaskClient, path: str, form: dict[str, object] | None = None) -> bytes:
    """The body of a download (GET, or POST of a form), closed afterwards."""
    response = client.post(path, data=form) if form is not None else client.get(path)
    assert response.status_code == 200, response.status_code
    body = response.get_data()
    response.close()
    return body


def opened_on_workstation(
    as_fiona: FlaskClient, mash: Mash, offline_key: OfflineKey, folder: Path
) -> Path:
    """The case downloaded by the front door and opened by the real workstation command."""
    page = page_of(as_fiona, f"/sources/{mash.source}")
    export = folder / "export.zip"
    export.write_bytes(
        download(
            as_fiona,
            f"/sources/{mash.source}/items/bulk",
            {"csrf_token": csrf_token(page), "action": "download_all"},
        )
    )
    out = folder / "opened"
    # The test key has no passphrase; the command still asks for one, as at a desk.
    code = run_cli(
        "open", str(export), "--out", str(out), "--homedir", str(offline_key.homedir),
        passphrases=("the test key has none",),
    )  # fmt: skip
    assert code == 0
    return out


def share(opened: Path, keys: Path, team: str, out: Path) -> int:
    """`seethesigns-workstation share` of the first message, for team, confirmed."""
    (message,) = opened.glob("*/1-message.txt")
    return run_cli(
        "share", str(opened), "--homedir", str(opened), "--keys", str(keys), "--team", team,
        "--item", str(message), "--out", str(out), "--yes",
    )  # fmt: skip


def claiming(package: bytes, fingerprints: list[str]) -> bytes:
    """The package with its manifest rewritten to list these recipients (items unchanged)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(out, "w") as archive:
        for name in source.namelist():
            data = source.read(name)
            if name == "manifest.json":
                manifest = json.loads(data)
                manifest["recipients"] = fingerprints
                data = json.dumps(manifest).encode()
            archive.writestr(name, data)
    return out.getvalue()


def upload(client: FlaskClient, mash: Mash, team_uuid: str, package: bytes) -> tuple[int, str]:
    """Upload a package on the case page; the status and the page or redirect."""
    page = page_of(client, f"/sources/{mash.source}")
    response = client.post(
        f"/sources/{mash.source}/shares",
        data={
            "csrf_token": csrf_token(page),
            "team": team_uuid,
            "package": (io.BytesIO(package), "package.zip"),
        },
        content_type="multipart/form-data",
    )
    return response.status_code, response.get_data(as_text=True)


def test_the_front_door_shares_one_edited_message_that_only_the_police_key_opens(
    journalist_app: Flask,
    mash: Mash,
    offline_key: OfflineKey,
    spare_keys: SpareKeys,
    open_db: sessionmaker[Session],
    editor: None,
    tmp_path: Path,
) -> None:
    as_fiona = client_of(journalist_app, mash.fiona)
    opened = opened_on_workstation(as_fiona, mash, offline_key, tmp_path)
    assert MESSAGE in next(opened.glob("*/1-message.txt")).read_text()
    keys = tmp_path / "police.asc"
    keys.write_bytes(download(as_fiona, f"/teams/{mash.police.uuid}/keys.asc"))
    package = tmp_path / "package.zip"
    assert share(opened, keys, "Police liaison", package) == 0

    status, _ = upload(as_fiona, mash, mash.police.uuid, package.read_bytes())

    assert status == 302
    as_paul = client_of(journalist_app, mash.paul)
    page = page_of(as_paul, f"/sources/{mash.source}")
    with open_db() as db:
        (copy,) = db.scalars(select(Submission).where(Submission.shared_with_team_id.is_not(None)))
        shared = db.scalars(select(AuditEntry).where(AuditEntry.action == "case.share")).one()
    assert copy.uuid in page and mash.message not in page
    assert shared.staff_username == "fiona" and "Police liaison" in shared.detail
    body = download(as_paul, f"/sources/{mash.source}/items/{copy.uuid}/download")
    assert spare_keys.second.decrypt(body).decode().strip() == EDITED
    assert not offline_key.opens(body)  # the front door's key cannot open the police's copy
    assert not spare_keys.on_call.opens(body)  # nor can Health's
    # The police team's workstation opens an export of it with the same command.
    assert copy.filename.endswith("-msg.gpg")


def test_tampered_packages_are_refused_and_change_nothing(
    journalist_app: Flask,
    mash: Mash,
    offline_key: OfflineKey,
    spare_keys: SpareKeys,
    open_db: sessionmaker[Session],
    settings: Settings,
    editor: None,
    tmp_path: Path,
) -> None:
    as_fiona = client_of(journalist_app, mash.fiona)
    opened = opened_on_workstation(as_fiona, mash, offline_key, tmp_path)
    police = download(as_fiona, f"/teams/{mash.police.uuid}/keys.asc")
    health = download(as_fiona, f"/teams/{mash.health.uuid}/keys.asc")
    for_health, both = tmp_path / "health.asc", tmp_path / "both.asc"
    for_health.write_bytes(health)
    both.write_bytes(police + health)
    wrong_key, extra = tmp_path / "wrong.zip", tmp_path / "extra.zip"
    # Made for Health, uploaded as for the police: the name in it is changed to match.
    assert share(opened, for_health, "Police liaison", wrong_key) == 0
    assert share(opened, both, "Police liaison", extra) == 0
    forged_wrong, forged_extra = (
        claiming(path.read_bytes(), [spare_keys.second.fingerprint]) for path in (wrong_key, extra)
    )
    junk = io.BytesIO()
    with zipfile.ZipFile(junk, "w") as archive:
        archive.writestr("manifest.json", "{}")
    before = snapshot(open_db, settings)
    for package, reason in (
        (wrong_key.read_bytes(), "other keys than Police liaison"),
        (extra.read_bytes(), "other keys than Police liaison"),
        # The same with the manifest rewritten to claim the police key: the packets tell.
        (forged_wrong, "encrypted to a key that is not Police liaison"),
        (forged_extra, "encrypted to a key that is not Police liaison"),
        (junk.getvalue(), "manifest"),
        (b"not a zip at all", "zip"),
    ):
        status, page = upload(as_fiona, mash, mash.police.uuid, package)
        assert status == 400, (reason, status)
        shown = page[page.find("Not shared") :][:400]
        assert "the package was refused" in shown and reason in shown, (reason, shown)
    after = snapshot(open_db, settings)
    refused = [row for row in after["rows"].pop("audit_entries") if row[4] == "case.share_refused"]
    before["rows"].pop("audit_entries")
    assert len(refused) == 6
    assert after == before  # no copy, no file
