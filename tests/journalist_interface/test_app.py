"""The staff app as a whole: key check, pages without scripts, error pages."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from seethesigns.settings import Settings
from tests.conftest import remove_submission_key
from tests.journalist_interface.conftest import Reported, page_of


def test_unavailable_while_the_submission_key_is_missing(
    logged_in: FlaskClient, journalist_client: FlaskClient, settings: Settings
) -> None:
    assert logged_in.get("/").status_code == 200
    remove_submission_key(settings)
    for path in ("/", "/login"):
        response = logged_in.get(path)
        assert response.status_code == 503
        assert "The server can't encrypt right now" in response.get_data(as_text=True)
    with logged_in.get("/static/style.css") as css:
        assert css.status_code == 200


def test_pages_load_nothing_from_elsewhere_and_run_no_script(
    logged_in: FlaskClient, reported: Reported
) -> None:
    for path in ("/", f"/sources/{reported.uuid}", "/no-such-page"):
        response = logged_in.get(path)
        page = response.get_data(as_text=True)
        assert "<script" not in page.lower()
        assert not re.search(r'(src|href|action)="(https?:)?//', page)
        assert "script-src" not in response.headers["Content-Security-Policy"]
        assert response.headers["Cache-Control"] == "no-store"


def test_unknown_page_is_a_calm_404(logged_in: FlaskClient) -> None:
    response = logged_in.get("/no-such-page")
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True)


def test_stylesheet_is_served(journalist_client: FlaskClient) -> None:
    with journalist_client.get("/static/style.css") as css:
        assert css.status_code == 200
        assert css.mimetype == "text/css"
    assert 'href="/static/style.css"' in page_of(journalist_client, "/login")
