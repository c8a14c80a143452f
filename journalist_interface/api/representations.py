"""The JSON shapes of SecureDrop's Journalist API v1: same field names, same meanings."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from flask import url_for

from journalist_interface.api.records import Author, ItemRecord, SourceRecord
from seethesigns.models import Staff

# Replies of a deleted account are shown as from SecureDrop's "deleted" journalist. It needs a
# uuid that never changes (clients key their user tables by it); no staff account can have it.
DELETED_USERNAME = "deleted"
DELETED_UUID = str(uuid.uuid5(uuid.NAMESPACE_URL, "https://seethesigns.invalid/staff/deleted"))


def api_time(when: datetime | None) -> str | None:
    """A stored (naive UTC) time as SecureDrop writes it: "2018-07-10T04:29:41.696321Z"."""
    # isoformat, not strftime: at 50,000 sources strftime alone took a quarter of a second.
    return when.isoformat(timespec="microseconds") + "Z" if when is not None else None


def sources_url() -> str:
    """The path of the source collection, e.g. /api/v1/sources, honouring any mount point."""
    return url_for("api.sources.all_sources")


def source_json(record: SourceRecord, base: str) -> dict[str, Any]:
    """One source, with the public key a client encrypts replies to; base is sources_url()."""
    url = f"{base}/{record.uuid}"
    return {
        "add_star_url": f"{url}/add_star",
        "interaction_count": record.interaction_count,
        "is_flagged": False,
        "is_starred": record.is_starred,
        "journalist_designation": record.designation,
        # A deleted account (issue 13) has no key: null, as SecureDrop sends for a source
        # without one, and as its client skips.
        "key": {
            "type": "PGP",
            "public": record.public_key or None,
            "fingerprint": record.fingerprint or None,
        },
        "last_updated": api_time(record.last_updated),
        "number_of_documents": record.documents,
        "number_of_messages": record.messages,
        "remove_star_url": f"{url}/remove_star",
        "replies_url": f"{url}/replies",
        "submissions_url": f"{url}/submissions",
        "url": url,
        "uuid": record.uuid,
    }


def submission_json(record: ItemRecord, base: str) -> dict[str, Any]:
    """One message or document; is_read means someone on the team has seen it."""
    source_url = f"{base}/{record.source_uuid}"
    url = f"{source_url}/submissions/{record.uuid}"
    is_message = record.filename.endswith("-msg.gpg")
    return {
        "download_url": f"{url}/download",
        "filename": record.filename,
        "is_file": record.filename.endswith("-doc.gz.gpg"),
        "is_message": is_message,
        "is_read": bool(record.seen_by),
        "seen_by": record.seen_by,
        "size": record.size,
        "source_url": source_url,
        "submission_url": url,
        "uuid": record.uuid,
    }


def _author_fields(author: Author | None) -> dict[str, Any]:
    if author is None:
        return {
            "journalist_first_name": "",
            "journalist_last_name": "",
            "journalist_username": DELETED_USERNAME,
            "journalist_uuid": DELETED_UUID,
        }
    # One display name here where SecureDrop has first and last names: it goes in first_name.
    return {
        "journalist_first_name": author.display_name or "",
        "journalist_last_name": "",
        "journalist_username": author.username,
        "journalist_uuid": author.uuid,
    }


def reply_json(record: ItemRecord, base: str) -> dict[str, Any]:
    """One reply, with its author (or the "deleted" placeholder)."""
    source_url = f"{base}/{record.source_uuid}"
    return {
        "filename": record.filename,
        "is_deleted_by_source": record.deleted_by_source,
        **_author_fields(record.author),
        "reply_url": f"{source_url}/replies/{record.uuid}",
        "seen_by": record.seen_by,
        "size": record.size,
        "source_url": source_url,
        "uuid": record.uuid,
    }


def user_json(staff: Staff, *, all_info: bool = False) -> dict[str, Any]:
    """A staff member as SecureDrop shows a journalist; all_info adds admin and last login."""
    found: dict[str, Any] = {
        "first_name": staff.display_name,
        "last_name": None,
        "username": staff.username,
        "uuid": staff.uuid,
    }
    if all_info:
        found["is_admin"] = staff.is_admin
        found["last_login"] = api_time(staff.last_login)
    return found


def deleted_user_json() -> dict[str, Any]:
    """The placeholder author of replies whose staff account was deleted."""
    return {
        "first_name": None,
        "last_name": None,
        "username": DELETED_USERNAME,
        "uuid": DELETED_UUID,
    }
