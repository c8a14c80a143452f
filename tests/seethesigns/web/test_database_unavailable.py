"""A database that cannot be reached gives a "try again" page (503), never a 500 or a hang.

Run on SQLite (the file is replaced by something SQLite cannot open) and on PostgreSQL (the
test's database is dropped under the running app), whichever backend the suite runs on.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import make_url

from seethesigns.instance_settings import Disguise
from seethesigns.settings import Settings
from tests.conftest import remove_submission_key
from tests.databases import TemplateDatabase


def take_database_away(settings: Settings, template_database: TemplateDatabase) -> None:
    """Make the instance's database unreachable, as a crashed or unmounted one is."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        path = Path(str(url.database))
        for end in ("", "-wal", "-shm"):
            path.with_name(path.name + end).unlink(missing_ok=True)
        path.mkdir()  # a directory where the file was: SQLite cannot open it
    else:
        template_database.drop(settings.database_url)


def test_source_pages_say_try_again_when_the_database_is_gone(
    source_client: FlaskClient, settings: Settings, template_database: TemplateDatabase
) -> None:
    if template_database.is_postgresql:  # SQLite's pooled connection keeps the unlinked file
        assert source_client.get("/").status_code == 200
    take_database_away(settings, template_database)
    response = source_client.get("/")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "Please try again in a little while" in response.get_data(as_text=True)
    shutil.rmtree(settings.data_dir / "seethesigns.db", ignore_errors=True)


def test_the_api_answers_json_503_when_the_database_is_gone(
    journalist_client: FlaskClient, settings: Settings, template_database: TemplateDatabase
) -> None:
    take_database_away(settings, template_database)
    response = journalist_client.post("/api/v1/token", json={"username": "x"})
    assert response.status_code == 503
    assert response.get_json()["error"] == "Service Unavailable"


def test_the_quick_exit_still_leaves_when_the_database_is_gone(
    source_client: FlaskClient, settings: Settings, template_database: TemplateDatabase
) -> None:
    """The exit must never strand a child on an error page: it goes to the default page."""
    if template_database.is_postgresql:
        assert source_client.get("/").status_code == 200
    take_database_away(settings, template_database)
    response = source_client.get("/exit")
    assert response.status_code == 303
    assert response.headers["Location"] == Disguise().exit_url
    assert response.headers["Clear-Site-Data"] == '"cache", "cookies"'


def test_the_quick_exit_leaves_even_when_the_submission_key_is_unusable(
    source_client: FlaskClient, settings: Settings
) -> None:
    remove_submission_key(settings)
    assert source_client.get("/").status_code == 503  # reports are refused, as they must be
    response = source_client.get("/exit")
    assert response.status_code == 303
    assert response.headers["Location"] == Disguise().exit_url
