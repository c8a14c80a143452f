"""Bad input and broken surroundings get a clear page and lose nothing."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from seethesigns.settings import Settings
from tests.conftest import create_form, csrf_token, multipart, remove_submission_key
from tests.source_interface.test_journey import new_source


def test_forged_codename_is_refused(source_client: FlaskClient, settings: Settings) -> None:
    page = source_client.get("/generate").get_data(as_text=True)
    form = create_form(page)
    form["codename"] = "a a a a a a a"  # a weak codename of the client's choosing
    response = source_client.post("/create", data=form)
    assert response.status_code == 400
    assert "try that again" in response.get_data(as_text=True)


def generated_form(client: FlaskClient) -> dict[str, str]:
    """The hidden fields of a fresh /generate page, as the browser would send them."""
    page = client.get("/generate").get_data(as_text=True)
    return create_form(page)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("mac", "\u00e9" * 64),  # made hmac.compare_digest raise TypeError: a 500
        ("mac", "\uff10" * 64),  # fullwidth zeros
        ("issued", "\u00b2"),  # passed str.isdigit(), then int() raised ValueError: a 500
        ("issued", "\u0661\u0667\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660"),
        ("issued", "9" * 5000),  # int() refuses more than 4,300 digits
        ("issued", "-1"),
        ("issued", ""),
        ("mac", ""),
        ("codename", "caf\u00e9 " * 7),
    ],
    ids=[
        "mac-accent",
        "mac-fullwidth",
        "issued-superscript",
        "issued-arabic",
        "issued-huge",
        "issued-negative",
        "issued-empty",
        "mac-empty",
        "codename-accent",
    ],
)
def test_a_malformed_codename_form_gets_the_friendly_page(
    source_client: FlaskClient, settings: Settings, field: str, value: str
) -> None:
    """Issue 10: strict ASCII checks first, so odd input is a 400 page, never a 500."""
    form = {**generated_form(source_client), field: value}
    response = source_client.post("/create", data=form)
    assert response.status_code == 400
    assert "try that again" in response.get_data(as_text=True)
    assert source_client.get("/lookup").headers["Location"] == "/login"  # nobody logged in


def test_too_long_message_keeps_the_text(source_client: FlaskClient, settings: Settings) -> None:
    new_source(source_client)
    page = source_client.get("/lookup").get_data(as_text=True)
    text = "x" * (settings.max_message_chars + 1)
    response = source_client.post("/submit", data={"csrf_token": csrf_token(page), "msg": text})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "too long" in body
    assert text in body  # what they wrote is still in the box
    assert not list(settings.store_dir.rglob("*.gpg"))


def test_post_without_csrf_token_is_refused(source_client: FlaskClient, settings: Settings) -> None:
    new_source(source_client)
    response = source_client.post("/submit", data={"msg": "no token"})
    assert response.status_code == 400
    assert not list(settings.store_dir.rglob("*.gpg"))


def test_missing_submission_key_closes_the_site(
    source_client: FlaskClient, settings: Settings
) -> None:
    assert source_client.get("/").status_code == 200
    remove_submission_key(settings)
    for path in ("/", "/generate", "/login"):
        response = source_client.get(path)
        assert response.status_code == 503
        assert "can't take reports right now" in response.get_data(as_text=True)


@pytest.fixture
def tiny_store(settings: Settings) -> Iterator[Settings]:
    """The store directory on a 1 MiB tmpfs, so the disk fills up for real."""
    settings.store_dir.mkdir(exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(settings.store_dir)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"needs root to mount a tmpfs: {mounted.stderr.strip()}")
    yield settings
    subprocess.run(["umount", str(settings.store_dir)], check=True)


def test_full_disk_gets_a_clear_page_and_keeps_nothing(
    source_client: FlaskClient, tiny_store: Settings
) -> None:
    new_source(source_client)
    page = source_client.get("/lookup").get_data(as_text=True)
    # Encoded by hand: the test client would spool a large body to a file it never closes.
    body, content_type = multipart(
        {"csrf_token": csrf_token(page), "msg": "please keep this text"},
        "fh",
        "video.mp4",
        os.urandom(3 * 1024 * 1024),
    )
    response = source_client.post("/submit", data=body, content_type=content_type)
    assert response.status_code == 507
    body = response.get_data(as_text=True)
    assert "Nothing was sent" in body
    assert "please keep this text" in body
    assert not [p for p in tiny_store.store_dir.rglob("*") if p.is_file()]
    # Once there is room again (here: a small message fits), sending works.
    page = source_client.get("/lookup").get_data(as_text=True)
    ok = source_client.post("/submit", data={"csrf_token": csrf_token(page), "msg": "short"})
    assert ok.status_code == 302
