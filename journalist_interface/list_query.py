"""What a staff member asks the source list for: search, filters, and a place in the order."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Boolean, DateTime, Integer, literal, tuple_
from sqlalchemy.sql.elements import Tuple

from seethesigns.cases import STATUS_NAMES, CaseError, normalize_label

MAX_SEARCH_CHARS = 64
CURSOR = re.compile(r"^([01])([01])-([0-9]{20})-([0-9]{1,18})$")
CURSOR_TIME = "%Y%m%d%H%M%S%f"


@dataclass(frozen=True)
class Cursor:
    """A position in the list order: the sort key of one row."""

    urgent: bool
    starred: bool
    last_updated: datetime
    id: int

    def __str__(self) -> str:
        """The cursor as written in a link, urgent and starred flags first: "01-2024...-42"."""
        flags = f"{int(self.urgent)}{int(self.starred)}"
        return f"{flags}-{self.last_updated.strftime(CURSOR_TIME)}-{self.id}"

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        """The cursor written in a link, or None for anything malformed."""
        found = CURSOR.fullmatch(text or "")
        if found is None:
            return None
        try:
            moment = datetime.strptime(found.group(3), CURSOR_TIME)
        except ValueError:
            return None
        return cls(found.group(1) == "1", found.group(2) == "1", moment, int(found.group(4)))

    def values(self) -> Tuple:
        """The sort key as SQL values, to compare with LIST_KEY."""
        return tuple_(
            literal(self.urgent, Boolean()),
            literal(self.starred, Boolean()),
            literal(self.last_updated, DateTime()),
            literal(self.id, Integer()),
        )


def _label(text: str) -> str:
    """A label filter as labels are stored, or "" for one no label can be."""
    try:
        return normalize_label(text) if text else ""
    except CaseError:
        return ""


@dataclass(frozen=True)
class ListQuery:
    """What a staff member asked the list for: search, filters, and where the page starts."""

    search: str = ""
    starred: bool = False
    unread: bool = False
    mine: bool = False
    status: str = ""
    label: str = ""
    after: Cursor | None = None
    before: Cursor | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> ListQuery:
        """Read the query string; a value that makes no sense is ignored, never an error."""
        status = args.get("status", "")
        return cls(
            search=" ".join(args.get("q", "").casefold().split())[:MAX_SEARCH_CHARS],
            starred=args.get("starred") == "1",
            unread=args.get("unread") == "1",
            mine=args.get("mine") == "1",
            status=status if status in STATUS_NAMES else "",
            label=_label(args.get("label", "")),
            after=Cursor.parse(args.get("after")),
            before=Cursor.parse(args.get("before")),
        )

    def filters(self) -> dict[str, str]:
        """The search and filters as query-string arguments, without the page position."""
        flags = {"starred": self.starred, "unread": self.unread, "mine": self.mine}
        found = {"q": self.search, "status": self.status, "label": self.label}
        found |= {name: "1" for name, on in flags.items() if on}
        return {key: value for key, value in found.items() if value}
