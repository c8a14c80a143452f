"""The bodies of the lists a client syncs, kept by Etag so that a repeat costs no rebuilding.

At 50,000 sources (200,000 submissions) `/api/v1/submissions` is tens of megabytes of JSON
and takes a second or more to build. Every staff member of a team who syncs after the same
change asks for the same bytes: a strong Etag (journalist_interface/api/sync.py) names
exactly those bytes, so a body kept under its Etag can be sent again as it is. (The source
list keeps each source's part instead, journalist_interface/api/source_fragments.py, so that
a change rebuilds only what changed.)

Nothing here can go stale: the Etag is made from the database's sync token (replaced by
triggers on every change a list shows), the asker's reach and the mount point, and it is read
before the rows. A change committed in between gives the new rows the old tag, which no later
request reads again (the token has moved on), so it is one wasted entry, never an old list.
Several workers or servers each keep their own, all keyed by the one shared token.

Memory is bounded: the least recently used bodies are dropped beyond `budget` bytes, and a
body larger than the whole budget is never kept. The bodies hold what the API sends anyway
(designations, public keys, counts), never a codename or any content.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from flask import Flask, current_app

EXTENSION = "seethesigns.list_cache"
# Per worker: the submissions and replies lists of an admin and a team at 50,000 sources.
DEFAULT_BUDGET = 128 * 1024 * 1024


class ListCache:
    """Bodies by Etag, least recently used dropped first; safe across a worker's threads."""

    def __init__(self, budget: int = DEFAULT_BUDGET) -> None:
        self.budget = budget
        self._bodies: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, etag: str) -> bytes | None:
        """The body kept under etag, if any."""
        with self._lock:
            body = self._bodies.get(etag)
            if body is not None:
                self._bodies.move_to_end(etag)
            return body

    def put(self, etag: str, body: bytes) -> None:
        """Keep body under etag, dropping the least recently used beyond the budget."""
        if len(body) > self.budget:
            return
        with self._lock:
            old = self._bodies.pop(etag, None)
            if old is not None:
                self._size -= len(old)
            self._bodies[etag] = body
            self._size += len(body)
            while self._size > self.budget:
                _, dropped = self._bodies.popitem(last=False)
                self._size -= len(dropped)

    @property
    def size(self) -> int:
        """The bytes kept now."""
        with self._lock:
            return self._size


def register(app: Flask, budget: int = DEFAULT_BUDGET) -> None:
    """Give the app its own cache (one per app: no module-level state)."""
    app.extensions[EXTENSION] = ListCache(budget)


def list_cache() -> ListCache:
    """The current app's cache."""
    found: ListCache = current_app.extensions[EXTENSION]
    return found
