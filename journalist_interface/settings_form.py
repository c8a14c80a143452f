"""The instance settings form, checked field by field with WTForms before anything is stored.

Numbers must be plain ASCII digits: str.isdigit() accepts "²", which int() then refuses (issue
10: a 500), and int() accepts "١٢" and "1_0", which nobody means as a number of days.
"""

from __future__ import annotations

import re
from typing import Any

from wtforms import BooleanField, Form, StringField, ValidationError

from seethesigns.instance_settings import (
    MIN_MESSAGE_LENGTH_MAX,
    ORGANIZATION_NAME_MAX,
    RETENTION_DAYS_MAX,
    Changes,
)
from seethesigns.models import InstanceConfig

DIGITS = re.compile(r"[0-9]{1,9}")


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def whole_number(text: str | None) -> int | None:
    """The number typed, if it is one to nine ASCII digits (spaces around allowed), else None."""
    cleaned = (text or "").strip()
    return int(cleaned) if DIGITS.fullmatch(cleaned) else None


def _number_in(field: Any, what: str, low: int, high: int, range_message: str) -> int:
    number = whole_number(field.data)
    if number is None:
        raise ValidationError(f"{what} must be a whole number")
    if not low <= number <= high:
        raise ValidationError(range_message)
    return number


class SettingsForm(Form):
    """What an admin may change on the settings page (the logo and urgent help have their own)."""

    organization_name = StringField(filters=[_strip])
    allow_uploads = BooleanField()
    # Text, not IntegerField: the page shows back exactly what was typed when it is refused.
    min_message_length = StringField(filters=[_strip])
    reject_codename_messages = BooleanField()
    # The two radio buttons: "days" keeps reports for retention_days, anything else until deleted.
    retention = StringField()
    retention_days = StringField(filters=[_strip])
    require_tor = BooleanField()

    def validate_organization_name(self, field: Any) -> None:
        """1 to ORGANIZATION_NAME_MAX printable characters."""
        name = field.data or ""
        if not name or len(name) > ORGANIZATION_NAME_MAX or not name.isprintable():
            raise ValidationError(
                f"the organisation name must be 1 to {ORGANIZATION_NAME_MAX} printable characters"
            )

    def validate_min_message_length(self, field: Any) -> None:
        """A whole number from 0 to MIN_MESSAGE_LENGTH_MAX."""
        _number_in(
            field,
            "the minimum length",
            0,
            MIN_MESSAGE_LENGTH_MAX,
            f"the minimum length must be between 0 and {MIN_MESSAGE_LENGTH_MAX} characters",
        )

    def validate_retention_days(self, field: Any) -> None:
        """When reports are deleted automatically: a whole number of days in range."""
        if self.keeps_for_days:
            _number_in(
                field,
                "the days",
                1,
                RETENTION_DAYS_MAX,
                f"reports can be kept for 1 to {RETENTION_DAYS_MAX} days, or until deleted",
            )

    @property
    def keeps_for_days(self) -> bool:
        """True when the admin chose automatic deletion after a number of days."""
        return bool(self.retention.data == "days")

    def first_error(self) -> str | None:
        """The first refusal, in the order the fields appear on the page."""
        for field in self:
            if field.errors:
                return str(field.errors[0])
        return None

    def changes(self) -> Changes:
        """The checked values, for update_settings (call after validate())."""
        minimum = whole_number(self.min_message_length.data)
        assert minimum is not None
        return Changes(
            organization_name=self.organization_name.data or "",
            allow_uploads=bool(self.allow_uploads.data),
            min_message_length=minimum,
            reject_codename_messages=bool(self.reject_codename_messages.data),
            retention_days=whole_number(self.retention_days.data) if self.keeps_for_days else None,
            require_tor=bool(self.require_tor.data),
        )


def stored_form(config: InstanceConfig) -> SettingsForm:
    """The form filled in with the settings as stored."""
    return SettingsForm(
        data={
            "organization_name": config.organization_name,
            "allow_uploads": config.allow_uploads,
            "min_message_length": str(config.min_message_length),
            "reject_codename_messages": config.reject_codename_messages,
            "retention": "off" if config.retention_days is None else "days",
            "retention_days": "" if config.retention_days is None else str(config.retention_days),
            "require_tor": config.require_tor,
        }
    )
