"""The neutral title and quick-exit page: defaults, an admin's choice, and refusals."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from seethesigns.instance_settings import (
    Disguise,
    InstanceSettingsError,
    disguise,
    instance_config,
    update_disguise,
)
from seethesigns.models import InstanceConfig

CHOSEN = Disguise("Maths revision", "https://example.org/timetable")
# Words that would tell someone glancing at a tab what the site is for.
TOPIC_WORDS = ("sign", "report", "exploit", "gang", "drug", "police", "help", "safe", "abuse")


def test_the_defaults_name_no_topic_and_leave_through_tor(db: Session) -> None:
    assert disguise(db) == Disguise()
    assert db.scalar(select(func.count()).select_from(InstanceConfig)) == 0  # nothing written
    assert not any(word in Disguise().site_title.lower() for word in TOPIC_WORDS)
    assert Disguise().exit_url.startswith("https://www.bbcweb3")
    assert Disguise().exit_url.split("/")[2].endswith(".onion")
    row = instance_config(db)  # the row's own defaults are the same
    assert (row.site_title, row.exit_url) == (Disguise().site_title, Disguise().exit_url)


def test_an_admin_chooses_both(db: Session) -> None:
    update_disguise(db, Disguise(" Maths revision ", " https://example.org/timetable "))
    db.expire_all()
    assert disguise(db) == CHOSEN  # stored, with spaces trimmed
    assert instance_config(db).organization_name == "See the Signs"  # nothing else changed


@pytest.mark.parametrize(
    ("title", "url", "message"),
    [
        ("", CHOSEN.exit_url, "page title"),
        ("x" * 65, CHOSEN.exit_url, "page title"),
        ("Tab\ttitle", CHOSEN.exit_url, "page title"),
        (CHOSEN.site_title, "javascript:alert(1)", "exit page"),
        (CHOSEN.site_title, "data:text/html,hi", "exit page"),
        (CHOSEN.site_title, "/login", "exit page"),
        (CHOSEN.site_title, "//example.org/", "exit page"),
        (CHOSEN.site_title, "https:///nohost", "exit page"),
        (CHOSEN.site_title, "https://example.org/a b", "exit page"),
        (CHOSEN.site_title, "https://exämple.org/", "exit page"),
        (CHOSEN.site_title, "https://example.org/" + "a" * 500, "exit page"),
    ],
)
def test_a_bad_value_changes_nothing(db: Session, title: str, url: str, message: str) -> None:
    update_disguise(db, CHOSEN)
    with pytest.raises(InstanceSettingsError, match=message):
        update_disguise(db, Disguise(title, url))
    db.expire_all()
    assert disguise(db) == CHOSEN
