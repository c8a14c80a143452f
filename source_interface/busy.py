"""The answer when every codename derivation slot is busy: 503, come back in a minute.

Each page shows it in place (seethesigns.codenames.DerivationSlots, issue 10), so nothing the
person typed or was shown is lost: the same codename to press on with, the same report.
"""

from __future__ import annotations

from typing import Any

from flask import make_response, render_template
from werkzeug.wrappers import Response

# What the pages ask for, in plain words: "try again in a minute".
RETRY_AFTER = {"Retry-After": "60"}


def busy_page(template: str, **context: Any) -> Response:
    """template rendered with busy=True, as a 503 with Retry-After."""
    return make_response(render_template(template, busy=True, **context), 503, RETRY_AFTER)
