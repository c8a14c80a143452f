"""The instance settings row: defaults, checked changes, the logo, and the header's branding."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from seethesigns.instance_settings import (
    Changes,
    InstanceSettingsError,
    branding,
    instance_config,
    logo_png,
    remove_logo,
    set_logo,
    update_settings,
)
from seethesigns.logos import LogoError
from seethesigns.models import InstanceConfig
from tests.seethesigns.test_logos import MARKER, png

VALID = Changes(
    organization_name="Anytown Children's Services",
    allow_uploads=False,
    min_message_length=40,
    reject_codename_messages=True,
    retention_days=90,
)


def test_defaults_until_an_admin_changes_them(db: Session) -> None:
    assert branding(db).name == "See the Signs"  # read without creating the row
    assert db.scalar(select(func.count()).select_from(InstanceConfig)) == 0
    config = instance_config(db)
    assert config.organization_name == "See the Signs"
    assert config.allow_uploads is True
    assert config.min_message_length == 0
    assert config.reject_codename_messages is False
    assert config.retention_days is None
    assert config.logo_png is None
    assert instance_config(db).id == config.id  # one row


def test_update_stores_every_value(db: Session) -> None:
    update_settings(db, VALID)
    db.expire_all()
    config = instance_config(db)
    assert config.organization_name == "Anytown Children's Services"
    assert config.allow_uploads is False
    assert config.min_message_length == 40
    assert config.reject_codename_messages is True
    assert config.retention_days == 90
    assert branding(db).name == "Anytown Children's Services"


def test_retention_can_be_switched_off_again(db: Session) -> None:
    update_settings(db, VALID)
    update_settings(db, Changes("Anytown", True, 0, False, None))
    db.expire_all()
    assert instance_config(db).retention_days is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("organization_name", "   ", "organisation name"),
        ("organization_name", "x" * 129, "organisation name"),
        ("organization_name", "tab\there", "organisation name"),
        ("min_message_length", -1, "minimum length"),
        ("min_message_length", 10_001, "minimum length"),
        ("retention_days", 0, "1 to 3650 days"),
        ("retention_days", 3651, "1 to 3650 days"),
    ],
)
def test_a_bad_value_changes_nothing(db: Session, field: str, value: object, message: str) -> None:
    update_settings(db, VALID)
    with pytest.raises(InstanceSettingsError, match=message):
        update_settings(db, Changes(**{**VALID.__dict__, field: value, "allow_uploads": True}))
    db.expire_all()
    assert instance_config(db).allow_uploads is False


def test_logo_is_stored_re_encoded_and_can_be_removed(db: Session) -> None:
    crafted = png(text=MARKER) + MARKER
    set_logo(db, crafted)
    stored = logo_png(db)
    assert stored is not None and stored != crafted and MARKER not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.size == (12, 8)
    assert branding(db).has_logo is True
    remove_logo(db)
    assert logo_png(db) is None
    assert branding(db).has_logo is False


def test_a_refused_logo_keeps_the_old_one(db: Session) -> None:
    set_logo(db, png())
    before = logo_png(db)
    with pytest.raises(LogoError):
        set_logo(db, b"GIF89a not a png")
    assert logo_png(db) == before
