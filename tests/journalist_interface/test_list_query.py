"""Reading the list's query string, and cursors that survive a round trip through a link."""

from __future__ import annotations

from datetime import datetime

from journalist_interface.list_query import Cursor, ListQuery


def test_cursor_round_trips_and_rejects_junk() -> None:
    cursor = Cursor(False, True, datetime(2024, 5, 1, 12, 0, 3, 120), 42)
    assert str(cursor) == "01-20240501120003000120-42"
    assert Cursor.parse(str(cursor)) == cursor
    urgent = Cursor(True, False, datetime(2024, 5, 1, 12, 0, 3, 120), 42)
    assert Cursor.parse(str(urgent)) == urgent
    old = "1-20240501120003000120-42"  # a link from before the urgent flag: ignored
    for junk in (
        "",
        "2-20240501120003000120-42",
        "1-2024-42",
        "1-20241301120003000120-4",
        "x",
        old,
    ):
        assert Cursor.parse(junk) is None


def test_query_string_is_normalised_and_nonsense_ignored() -> None:
    query = ListQuery.from_args(
        {"q": "  Gentle   OTTER ", "starred": "1", "unread": "yes", "status": "closed"}
        | {"label": " Knife  CRIME", "after": "00-20240501120003000120-7", "before": "soon"}
    )
    assert query == ListQuery(
        search="gentle otter",
        starred=True,
        status="closed",
        label="knife crime",
        after=Cursor(False, False, datetime(2024, 5, 1, 12, 0, 3, 120), 7),
    )
    assert query.filters() == {
        "q": "gentle otter",
        "status": "closed",
        "label": "knife crime",
        "starred": "1",
    }
    assert ListQuery.from_args({"q": "x" * 500, "label": "\x00", "status": "lost"}) == ListQuery(
        search="x" * 64
    )
    assert ListQuery().filters() == {}
