"""Reading the log for admins: the filters taken from a query string, and CSV cells."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.audit.chain import Actor, append
from seethesigns.audit.log_query import AuditFilter, csv_rows, safe_cell
from tests.seethesigns.audit.conftest import fill


def test_filters_come_from_the_query_string_and_ignore_nonsense() -> None:
    """A known action and real dates are kept; anything else falls back to no filter."""
    wanted = AuditFilter.from_args(
        {"staff": "alice", "action": "logout", "since": "2026-01-02", "page": "3"}
    )
    assert wanted == AuditFilter("alice", "logout", date(2026, 1, 2), None, 3)
    assert wanted.arguments() == {"staff": "alice", "action": "logout", "since": "2026-01-02"}
    odd = AuditFilter.from_args(
        {"action": "drop table", "since": "yesterday", "until": "2026-13-01", "page": "-1"}
    )
    assert odd == AuditFilter()


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("alice", "alice"),
        ('{"a":"=1"}', '{"a":"=1"}'),
        (7, 7),
        (None, None),
    ],
)
def test_a_cell_a_spreadsheet_would_run_gets_a_quote(cell: object, shown: object) -> None:
    """CSV injection: = + - @ (and tab or CR) at the start of text are defused."""
    assert safe_cell(cell) == shown


def test_csv_rows_are_every_filtered_entry_newest_first(
    factory: sessionmaker[Session], key: bytes
) -> None:
    """Across batches, in order, with the filter applied and formulas defused."""
    fill(factory, key, 3)
    append(factory, key, Actor(9, "=cmd|' /C calc'!A0"), "logout")
    with factory() as db:
        rows = list(csv_rows(db, AuditFilter()))
        logouts = list(csv_rows(db, AuditFilter(action="logout")))
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    assert [row[0] for row in rows[1:]] == [4, 3, 2, 1]
    assert rows[1][3] == "'=cmd|' /C calc'!A0"
    assert [row[0] for row in logouts[1:]] == [4]
