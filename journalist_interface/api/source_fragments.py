"""The source list of the Journalist API, built from each source's JSON kept as bytes.

SecureDrop's client fetches every source, each with its ~1 KB public key, on every sync that
finds something changed: at 50,000 sources about 70 MB of JSON. Reading every key, counting
200,000 submissions and encoding every source again took over a second, though a change
touches one source or a few. So each source's JSON is kept here, as the bytes it encodes to,
beside the "stamp" it was made from. A list reads the stamps of the sources it shows from one
small index (records.source_stamps), reuses the bytes of each source whose stamp is unchanged
and makes only the rest, with their keys and counts.

Kept bytes cannot go stale. The stamp holds every column the JSON shows except the key,
whose fingerprint it holds, and the number the database's triggers bump whenever one of the
source's submissions is added, changed or removed (migration 0017), which covers the counts.
The counts also depend on who asks (a team a case was shared with sees only its copies), so
bytes are kept per reach: the same one as the list's Etag. They are what json.dumps gives for
that source's dict, so the body is byte for byte the whole list encoded at once, as its strong
Etag promises. Memory is bounded by a budget: beyond it, sources are encoded but not kept.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from flask import Flask, current_app
from sqlalchemy.orm import Session

from journalist_interface.api import records
from journalist_interface.api.representations import source_json
from seethesigns.teams.reach import Reach

EXTENSION = "seethesigns.source_fragments"
# Per worker. Each source's JSON is about 1.4 KB; an admin's and the teams' lists at 50,000
# sources hold it twice over (about 140 MB).
DEFAULT_BUDGET = 160 * 1024 * 1024
# Up to this many sources to make, they are read by id; beyond, the whole list is read.
BY_ID = 500

Stamp = tuple[Any, ...]


def encode(found: dict[str, Any]) -> bytes:
    """JSON as the list sends it: compact, keys sorted, ASCII (Flask's provider's settings)."""
    return json.dumps(found, separators=(",", ":"), sort_keys=True).encode()


class SourceFragments:
    """Each source's JSON bytes, by mount point and reach, then source id, with their stamp."""

    def __init__(self, budget: int = DEFAULT_BUDGET) -> None:
        self.budget = budget
        self._views: dict[tuple[str, str], dict[int, tuple[Stamp, bytes]]] = {}
        self._size = 0
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        """The bytes kept now."""
        return self._size

    def body(self, db: Session, reach: Reach, base: str) -> bytes:
        """The whole list, {"sources": [...]}, as bytes; base is sources_url()."""
        # The driver's own rows: SQLAlchemy's Row objects (and the session's ORM layer above
        # them) cost more than the query itself at 50,000 sources. The stamp is compared
        # with the stamp, never interpreted, so raw values do.
        result = db.connection().execute(records.source_stamps(reach))
        rows: list[Stamp] = records.in_list_order(result.cursor.fetchall())
        result.close()
        parts: list[bytes] = []
        missing: dict[int, tuple[int, Stamp]] = {}
        with self._lock:
            view = self._views.setdefault((base, reach.key), {})
            for place, row in enumerate(rows):
                kept = view.get(row[records.STAMP_ID])
                if kept is not None and kept[0] == row:
                    parts.append(kept[1])
                else:
                    parts.append(b"")
                    missing[row[records.STAMP_ID]] = (place, row)
        if missing:
            made = self._make(db, reach, base, missing)
            self._keep(view, {i: (missing[i][1], part) for i, part in made.items()})
            for source_id, part in made.items():
                parts[missing[source_id][0]] = part
        if reach.everything and sum(map(len, self._views.values())) > 2 * len(rows):
            self._prune({row[records.STAMP_ID] for row in rows})
        return b'{"sources":[' + b",".join(parts) + b"]}\n"

    @staticmethod
    def _make(
        db: Session, reach: Reach, base: str, missing: dict[int, tuple[int, Stamp]]
    ) -> dict[int, bytes]:
        # A few changed sources are read by id; a cold start reads the list in one query.
        found = records.source_records(db, reach, ids=missing if len(missing) <= BY_ID else None)
        return {r.id: encode(source_json(r, base)) for r in found if r.id in missing}

    def _keep(
        self, view: dict[int, tuple[Stamp, bytes]], made: dict[int, tuple[Stamp, bytes]]
    ) -> None:
        with self._lock:
            for source_id, (stamp, part) in made.items():
                old = view.pop(source_id, None)
                if old is not None:
                    self._size -= len(old[1])
                if self._size + len(part) <= self.budget:
                    view[source_id] = (stamp, part)
                    self._size += len(part)

    def _prune(self, listed: set[int]) -> None:
        """Drop what is kept for sources gone from the whole list (deleted ones)."""
        with self._lock:
            for view in self._views.values():
                for source_id in [i for i in view if i not in listed]:
                    self._size -= len(view.pop(source_id)[1])


def register(app: Flask, budget: int = DEFAULT_BUDGET) -> None:
    """Give the app its own store of source JSON (one per app: no module-level state)."""
    app.extensions[EXTENSION] = SourceFragments(budget)


def source_fragments() -> SourceFragments:
    """The current app's store of source JSON."""
    found: SourceFragments = current_app.extensions[EXTENSION]
    return found
