"""The figures page and its CSV files: admins only, content-free, one report per sending."""

from __future__ import annotations

import csv
import io

from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from journalist_interface.views.admin_figures import WEEK_COLUMNS, duration
from seethesigns.models import Case, Source, Submission
from seethesigns.models.base import utcnow
from tests.journalist_interface.conftest import MESSAGE, Reported, download_links, page_of
from tests.journalist_interface.test_audit import actions_of


def rows_of(response_text: str) -> list[list[str]]:
    """The rows of a CSV document."""
    return list(csv.reader(io.StringIO(response_text)))


def test_a_message_and_a_file_sent_together_are_one_report(
    as_admin: FlaskClient, reported: Reported, open_db: sessionmaker[Session]
) -> None:
    with open_db() as db:
        times = db.scalars(select(Submission.created_at)).all()
    assert len(times) == 2 and times[0] == times[1]  # stamped once by submit()
    page = page_of(as_admin, "/admin/figures")
    assert "<td>1 (1 / 0)</td>" in page
    assert "1 not yet" in page  # neither downloaded nor answered
    assert MESSAGE not in page and reported.designation not in page
    response = as_admin.get("/admin/figures/weeks.csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    header, week = rows_of(response.get_data(as_text=True))
    assert tuple(header) == WEEK_COLUMNS
    by_name = dict(zip(header, week, strict=True))
    year, number, _ = utcnow().date().isocalendar()
    assert by_name["iso_week"] == f"{year}-W{number:02d}"
    assert (by_name["reports"], by_name["urgent_percent"], by_name["not_yet_downloaded"]) == (
        "1",
        "0.0",
        "1",
    )


def test_a_download_is_counted_and_the_statuses_follow_the_cases(
    as_admin: FlaskClient, reported: Reported, open_db: sessionmaker[Session]
) -> None:
    links = download_links(page_of(as_admin, f"/sources/{reported.uuid}"))
    with as_admin.get(links[0]) as download:
        assert download.status_code == 200 and download.get_data()
    header, week = rows_of(as_admin.get("/admin/figures/weeks.csv").get_data(as_text=True))
    by_name = dict(zip(header, week, strict=True))
    assert (by_name["downloaded"], by_name["not_yet_downloaded"]) == ("1", "0")
    assert float(by_name["median_hours_to_first_download"]) < 0.1
    with open_db() as db:
        source_id = db.scalar(select(Source.id))
        db.add(Case(source_id=source_id, status="referred"))
        db.commit()
    statuses = rows_of(as_admin.get("/admin/figures/statuses.csv").get_data(as_text=True))
    assert statuses == [
        ["status", "cases"],
        ["new", "0"],
        ["new_activity", "0"],
        ["in_review", "0"],
        ["referred", "1"],
        ["closed", "0"],
    ]


def test_a_status_a_spreadsheet_would_run_is_escaped(
    as_admin: FlaskClient, reported: Reported, open_db: sessionmaker[Session]
) -> None:
    with open_db() as db:
        source_id = db.scalar(select(Source.id))
        db.add(Case(source_id=source_id, status="=cmd|'/C calc'"))
        db.execute(update(Submission).values(urgent=True))
        db.commit()
    statuses = rows_of(as_admin.get("/admin/figures/statuses.csv").get_data(as_text=True))
    assert ["'=cmd|'/C calc'", "1"] in statuses
    page = page_of(as_admin, "/admin/figures")
    assert "1 (100%)" in page  # the urgent share


def test_only_admins_see_the_figures(as_bob: FlaskClient, journalist_client: FlaskClient) -> None:
    for path in ("/admin/figures", "/admin/figures/weeks.csv", "/admin/figures/statuses.csv"):
        assert as_bob.get(path).status_code == 403
    assert "Figures</a>" not in page_of(as_bob, "/")


def test_the_page_explains_every_figure(as_admin: FlaskClient) -> None:
    page = page_of(as_admin, "/admin/figures")
    assert "No reports yet." in page
    for term in ("Report", "Urgent", "Time to first download", "Time to first reply", "Week"):
        assert f"<dt>{term}</dt>" in page
    assert "Figures</a>" in page


def test_waits_read_as_people_say_them() -> None:
    assert duration(None) == "\u2013"
    assert duration(25 * 60) == "25 min"
    assert duration(3 * 3600 + 20 * 60) == "3 h 20 min"
    assert duration(5 * 3600) == "5 h"
    assert duration(52 * 3600) == "2 d 4 h"
    assert duration(72 * 3600) == "3 d"


def test_looking_at_and_exporting_the_figures_is_on_record(
    as_admin: FlaskClient, open_db: sessionmaker[Session]
) -> None:
    assert as_admin.get("/admin/figures").status_code == 200
    assert as_admin.get("/admin/figures/weeks.csv").status_code == 200
    assert as_admin.get("/admin/figures/statuses.csv").status_code == 200
    assert [a for a in actions_of(open_db) if a.startswith("figures.")] == [
        "figures.view",
        "figures.export",
        "figures.export",
    ]
