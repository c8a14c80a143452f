"""The urgent-help services named on every source page: defaults, and an area's own."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from seethesigns.instance_settings import (
    InstanceSettingsError,
    UrgentHelp,
    instance_config,
    update_urgent_help,
    urgent_help,
)
from seethesigns.models import InstanceConfig

ELSEWHERE = UrgentHelp("112", "Youth Line", "0800 123 456", "Speak Up", "speakup.example")


def test_uk_services_until_an_admin_names_others(db: Session) -> None:
    assert urgent_help(db) == UrgentHelp(
        "999", "Childline", "0800 1111", "Fearless", "fearless.org"
    )
    assert db.scalar(select(func.count()).select_from(InstanceConfig)) == 0  # nothing written
    instance_config(db)
    assert urgent_help(db) == UrgentHelp()


def test_an_area_names_its_own_services(db: Session) -> None:
    update_urgent_help(db, UrgentHelp(**{**ELSEWHERE.__dict__, "emergency_number": " 112 "}))
    db.expire_all()
    assert urgent_help(db) == ELSEWHERE  # stored, with spaces trimmed
    assert instance_config(db).organization_name == "See the Signs"  # nothing else changed


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("emergency_number", ""),
        ("emergency_number", "1" * 33),
        ("helpline_name", "   "),
        ("helpline_contact", "x" * 65),
        ("anonymous_service_name", "Line\nbreak"),
    ],
)
def test_a_bad_value_changes_nothing(db: Session, field: str, value: str) -> None:
    update_urgent_help(db, ELSEWHERE)
    with pytest.raises(InstanceSettingsError, match=field.replace("_", " ")):
        update_urgent_help(db, UrgentHelp(**{**ELSEWHERE.__dict__, field: value}))
    db.expire_all()
    assert urgent_help(db) == ELSEWHERE


def test_the_adult_helpline_defaults_to_the_nspcc(db: Session) -> None:
    help_now = urgent_help(db)
    assert (help_now.adult_helpline_name, help_now.adult_helpline_contact) == (
        "NSPCC",
        "0808 800 5000",
    )
