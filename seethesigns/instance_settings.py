"""Reading and changing the instance settings row that admins edit."""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from seethesigns.logos import reencode_png
from seethesigns.models import InstanceConfig
from seethesigns.models.instance_config import DEFAULT_READERS, DEFAULT_SHARED_WITH

DEFAULT_ORGANIZATION_NAME = "See the Signs"
ORGANIZATION_NAME_MAX = 128
# A first message longer than this could never be sent: the source form allows 100,000.
MIN_MESSAGE_LENGTH_MAX = 10_000
RETENTION_DAYS_MAX = 3650
# Column widths of the urgent-help services (models/instance_config.py).
EMERGENCY_NUMBER_MAX = 32
SERVICE_TEXT_MAX = 64
# Column widths of the disguise (models/instance_config.py).
SITE_TITLE_MAX = 64
EXIT_URL_MAX = 512
# Two weeks: a promise longer than that tells a child nobody is listening.
REPLY_WITHIN_HOURS_MAX = 336
# A page left open longer than this is more likely to be seen by someone else.
WAIT_MINUTES_MAX = 30
# A day: reports not marked urgent are still told about at least daily.
ALERT_BATCH_MINUTES_MAX = 1440
DEFAULT_ALERT_BATCH_MINUTES = 15
# Column width of who reads a report and who it may be shared with: a short name, not a policy.
WHO_READS_MAX = 120
# No markup: the words are plain text put into a translated sentence, never HTML.
MARKUP_CHARACTERS = frozenset("<>")


class InstanceSettingsError(Exception):
    """A setting has a value the instance cannot use; the message says which and why."""


@dataclass(frozen=True)
class Changes:
    """The settings an admin submits on the settings page (the logo has its own form)."""

    organization_name: str
    allow_uploads: bool
    min_message_length: int
    reject_codename_messages: bool
    retention_days: int | None
    # On the HTTPS front, refuse reports and point to the onion service (issue 17).
    require_tor: bool = False


@dataclass(frozen=True)
class Branding:
    """What every page's header shows: the organisation's name and whether it has a logo."""

    name: str
    has_logo: bool


@dataclass(frozen=True)
class UrgentHelp:
    """The services every source page names under "Need help now?".

    Each has a fixed role (emergency number, a free helpline for children, a way to report
    crime without a name), so that the translated sentences around them stay true when an
    area names its own services.
    """

    emergency_number: str = "999"
    helpline_name: str = "Childline"
    helpline_contact: str = "0800 1111"
    anonymous_service_name: str = "Fearless"
    anonymous_service_contact: str = "fearless.org"
    # For a parent or friend worried about a child: offered when they report for someone else.
    adult_helpline_name: str = "NSPCC"
    adult_helpline_contact: str = "0808 800 5000"


@dataclass(frozen=True)
class Disguise:
    """What someone glancing at the phone sees of this site (issue 12).

    The title of every source page names no topic: tab lists and the switcher show it. The
    quick exit ends the session and sends the browser to exit_url, a page as dull as that
    title. The default is the BBC's onion service, because it loads quickly in Tor Browser,
    where sources are, without leaving the Tor network.
    """

    site_title: str = "Notes"
    exit_url: str = (
        "https://www.bbcweb3hytmzhn5d532owbu6oqadra5z3ar726vq5kgwwn6aucdccrad.onion/news"
    )


@dataclass(frozen=True)
class ReplyPromise:
    """What a source is told about replies after sending a report (issue 12).

    reply_within_hours is how soon staff usually answer, said in plain words on the
    confirmation. When wait_offered, the source may stay on a page that checks for the first
    reply by itself (an HTML refresh, no JavaScript) for up to wait_minutes.
    """

    reply_within_hours: int = 24
    wait_offered: bool = True
    wait_minutes: int = 10


@dataclass(frozen=True)
class WhoReads:
    """Who reads every report, and who it may be shared with to keep someone safe (issue 14).

    Said to every source on the first page and after sending, inside translated sentences, so
    that a partnership states its own arrangement honestly.
    """

    readers: str = DEFAULT_READERS
    shared_with: str = DEFAULT_SHARED_WITH


def instance_config(db: Session) -> InstanceConfig:
    """The single settings row, created with its defaults on first use."""
    row = db.scalar(select(InstanceConfig).order_by(InstanceConfig.id).limit(1))
    if row is None:
        row = InstanceConfig(
            organization_name=DEFAULT_ORGANIZATION_NAME,
            allow_uploads=True,
            min_message_length=0,
            reject_codename_messages=False,
        )
        db.add(row)
        db.commit()
    return row


def branding(db: Session) -> Branding:
    """The header's name and logo flag, without reading the logo itself or writing a row."""
    found = db.execute(
        select(InstanceConfig.organization_name, InstanceConfig.logo_png.is_not(None))
        .order_by(InstanceConfig.id)
        .limit(1)
    ).first()
    if found is None:
        return Branding(DEFAULT_ORGANIZATION_NAME, has_logo=False)
    return Branding(found[0], has_logo=bool(found[1]))


def urgent_help(db: Session) -> UrgentHelp:
    """The urgent-help services, without writing a row (the defaults until one exists)."""
    columns = [getattr(InstanceConfig, name) for name in UrgentHelp.__dataclass_fields__]
    found = db.execute(select(*columns).order_by(InstanceConfig.id).limit(1)).first()
    return UrgentHelp(*found) if found is not None else UrgentHelp()


def update_urgent_help(db: Session, services: UrgentHelp) -> InstanceConfig:
    """Check and store the urgent-help services; nothing changes if any value is refused."""
    values = {name: str(value).strip() for name, value in services.__dict__.items()}
    for name, value in values.items():
        limit = EMERGENCY_NUMBER_MAX if name == "emergency_number" else SERVICE_TEXT_MAX
        if not value or len(value) > limit or not value.isprintable():
            label = name.replace("_", " ")
            raise InstanceSettingsError(f"the {label} must be 1 to {limit} printable characters")
    row = instance_config(db)
    for name, value in values.items():
        setattr(row, name, value)
    db.commit()
    return row


def disguise(db: Session) -> Disguise:
    """The neutral title and the exit's page, without writing a row (defaults until one exists)."""
    found = db.execute(
        select(InstanceConfig.site_title, InstanceConfig.exit_url)
        .order_by(InstanceConfig.id)
        .limit(1)
    ).first()
    return Disguise(*found) if found is not None else Disguise()


def _check_exit_url(url: str) -> None:
    # Only a whole http(s) address: the exit must leave this site, never run anything
    # (javascript:, data:) nor stay on it (a path).
    parts = urlsplit(url)
    if (
        len(url) > EXIT_URL_MAX
        or not url.isascii()
        or not url.isprintable()
        or " " in url
        or parts.scheme not in ("http", "https")
        or not parts.hostname
    ):
        raise InstanceSettingsError(
            f"the exit page must be a whole http:// or https:// address of at most "
            f"{EXIT_URL_MAX} characters"
        )


def update_disguise(db: Session, chosen: Disguise) -> InstanceConfig:
    """Check and store the neutral title and the exit's page; nothing changes if one is refused."""
    title, url = chosen.site_title.strip(), chosen.exit_url.strip()
    if not title or len(title) > SITE_TITLE_MAX or not title.isprintable():
        raise InstanceSettingsError(
            f"the page title must be 1 to {SITE_TITLE_MAX} printable characters"
        )
    _check_exit_url(url)
    row = instance_config(db)
    row.site_title, row.exit_url = title, url
    db.commit()
    return row


def reply_promise(db: Session) -> ReplyPromise:
    """How soon replies come and the wait page's settings, without writing a row."""
    found = db.execute(
        select(
            InstanceConfig.reply_within_hours,
            InstanceConfig.wait_for_reply_offered,
            InstanceConfig.wait_for_reply_minutes,
        )
        .order_by(InstanceConfig.id)
        .limit(1)
    ).first()
    return ReplyPromise(found[0], bool(found[1]), found[2]) if found else ReplyPromise()


def who_reads(db: Session) -> WhoReads:
    """Who reads reports and who they may be shared with, without writing a row."""
    found = db.execute(
        select(InstanceConfig.readers, InstanceConfig.shared_with)
        .order_by(InstanceConfig.id)
        .limit(1)
    ).first()
    return WhoReads(*found) if found is not None else WhoReads()


def checked_who_reads(chosen: WhoReads) -> WhoReads:
    """The words stripped of surrounding spaces; InstanceSettingsError if one cannot be used."""
    stripped = WhoReads(chosen.readers.strip(), chosen.shared_with.strip())
    for label, value in (
        ("who reads reports", stripped.readers),
        ("who reports may be shared with", stripped.shared_with),
    ):
        if (
            not value
            or len(value) > WHO_READS_MAX
            or not value.isprintable()
            or MARKUP_CHARACTERS & set(value)
        ):
            raise InstanceSettingsError(
                f"{label} must be 1 to {WHO_READS_MAX} printable characters, without < or >"
            )
    return stripped


def update_reply_promise(
    db: Session, chosen: ReplyPromise, who: WhoReads | None = None
) -> InstanceConfig:
    """Check and store the reply time, the wait page's settings and who reads (all or none)."""
    checked = checked_who_reads(who) if who is not None else None
    if not 1 <= chosen.reply_within_hours <= REPLY_WITHIN_HOURS_MAX:
        raise InstanceSettingsError(
            f"the usual reply time must be 1 to {REPLY_WITHIN_HOURS_MAX} hours"
        )
    if not 1 <= chosen.wait_minutes <= WAIT_MINUTES_MAX:
        raise InstanceSettingsError(f"the wait must be 1 to {WAIT_MINUTES_MAX} minutes")
    row = instance_config(db)
    row.reply_within_hours = chosen.reply_within_hours
    row.wait_for_reply_offered = chosen.wait_offered
    row.wait_for_reply_minutes = chosen.wait_minutes
    if checked is not None:
        row.readers, row.shared_with = checked.readers, checked.shared_with
    db.commit()
    return row


def logo_png(db: Session) -> bytes | None:
    """The stored (re-encoded) logo, or None."""
    return db.scalar(select(InstanceConfig.logo_png).order_by(InstanceConfig.id).limit(1))


def _check(changes: Changes) -> None:
    name = changes.organization_name
    if not name or len(name) > ORGANIZATION_NAME_MAX or not name.isprintable():
        raise InstanceSettingsError(
            f"the organisation name must be 1 to {ORGANIZATION_NAME_MAX} printable characters"
        )
    if not 0 <= changes.min_message_length <= MIN_MESSAGE_LENGTH_MAX:
        raise InstanceSettingsError(
            f"the minimum length must be between 0 and {MIN_MESSAGE_LENGTH_MAX} characters"
        )
    days = changes.retention_days
    if days is not None and not 1 <= days <= RETENTION_DAYS_MAX:
        raise InstanceSettingsError(
            f"reports can be kept for 1 to {RETENTION_DAYS_MAX} days, or until deleted"
        )


def update_settings(db: Session, changes: Changes) -> InstanceConfig:
    """Check and store new settings; nothing changes if any value is refused."""
    changes = replace(changes, organization_name=changes.organization_name.strip())
    _check(changes)
    row = instance_config(db)
    row.organization_name = changes.organization_name
    row.allow_uploads = changes.allow_uploads
    row.min_message_length = changes.min_message_length
    row.reject_codename_messages = changes.reject_codename_messages
    row.retention_days = changes.retention_days
    row.require_tor = changes.require_tor
    db.commit()
    return row


def tor_required(db: Session) -> bool:
    """Whether the HTTPS front may take no report, only send people to the onion service."""
    found = db.scalar(select(InstanceConfig.require_tor).order_by(InstanceConfig.id).limit(1))
    return bool(found)


def set_logo(db: Session, uploaded: bytes) -> None:
    """Store the uploaded PNG, re-encoded (raises LogoError for anything else)."""
    row = instance_config(db)
    row.logo_png = reencode_png(uploaded)
    db.commit()


def remove_logo(db: Session) -> None:
    """Go back to showing the organisation's name alone."""
    row = instance_config(db)
    row.logo_png = None
    db.commit()


def alert_batch_minutes(db: Session) -> int:
    """Minutes over which alerts for reports not marked urgent are gathered (issue 13)."""
    found = db.scalar(
        select(InstanceConfig.alert_batch_minutes).order_by(InstanceConfig.id).limit(1)
    )
    return DEFAULT_ALERT_BATCH_MINUTES if found is None else int(found)


def update_alert_batch_minutes(db: Session, minutes: int) -> InstanceConfig:
    """Check and store the batch interval."""
    if not 1 <= minutes <= ALERT_BATCH_MINUTES_MAX:
        raise InstanceSettingsError(
            f"the alert interval must be 1 to {ALERT_BATCH_MINUTES_MAX} minutes"
        )
    row = instance_config(db)
    row.alert_batch_minutes = minutes
    db.commit()
    return row
