"""ETags for the lists a client syncs, and a 304 for an unchanged one without building it.

SecureDrop's client pulls every source, submission and reply on each sync; at 50,000 sources
that is tens of megabytes. A client that sends back the Etag it was given gets an empty 304
when nothing it can see has changed: a token read, no list built.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, request

from journalist_interface.api.list_cache import list_cache
from journalist_interface.staff_reach import reach
from seethesigns.sync_token import sync_token
from seethesigns.web.setup import db

# Bumped when the JSON of a list changes shape, so that no old Etag matches the new shape.
REPRESENTATION = "1"


def list_etag(kind: str) -> str:
    """The strong, quoted validator of one list as this staff member sees it.

    What the list holds depends only on the database (the token) and on the asker's reach
    (their teams, or everything for an admin), never on who they are otherwise: no field
    is per staff member. The URLs in it depend on where the app is mounted.
    """
    parts = (REPRESENTATION, kind, sync_token(db()), reach().key, request.script_root)
    return '"' + hashlib.sha256("|".join(parts).encode()).hexdigest()[:32] + '"'


def conditional_list(kind: str, build: Callable[[], list[dict[str, Any]]]) -> tuple[Response, int]:
    """{kind: build()} with its Etag, or a bodiless 304 if the client's copy is current."""

    def render() -> bytes:
        # The bytes jsonify sends outside debug: compact, keys sorted, a final newline.
        text = current_app.json.dumps({kind: build()}, separators=(",", ":"))
        return (text + "\n").encode()

    return conditional_body(kind, render)


def conditional_body(
    kind: str, render: Callable[[], bytes], *, keep: bool = True
) -> tuple[Response, int]:
    """The list render() makes, with its Etag, or a bodiless 304 if the client's is current.

    keep=False for a list that keeps its parts instead (the sources: source_fragments.py),
    which would otherwise be held twice.

    The token is read before the rows: a change committed in between gives the new rows an
    old tag (one needless 200 next time), never old rows a new tag. A body already built for
    this Etag is sent again as it is (journalist_interface/api/list_cache.py).
    """
    etag = list_etag(kind)
    # Weak comparison, as RFC 9110 asks of If-None-Match; "*" matches too.
    if request.if_none_match.contains_weak(etag.strip('"')):
        response = Response(status=304)
        status = 304
    else:
        cache = list_cache() if keep else None
        body = cache.get(etag) if cache is not None else None
        if body is None:
            body = render()
            if cache is not None:
                cache.put(etag, body)
        response = Response(body, mimetype="application/json")
        status = 200
    # Spelled "Etag" as SecureDrop sends it: securedrop-sdk reads its headers as a plain dict.
    response.headers["Etag"] = etag
    return response, status
