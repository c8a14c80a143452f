"""The organisation's name and logo in both interfaces' headers, and the logo's route."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, abort

from seethesigns.instance_settings import DEFAULT_ORGANIZATION_NAME, Branding, branding, logo_png
from seethesigns.web.setup import database_reachable, db

bp = Blueprint("branding", __name__)


@bp.get("/logo.png")
def logo() -> Response:
    """The stored logo, re-encoded on upload; 404 while there is none."""
    png = logo_png(db())
    if png is None:
        abort(404)
    # Cache-Control stays no-store (set for every response): a cached logo on a shared
    # device would tell the next person which site was visited.
    return Response(png, mimetype="image/png")


def _organization() -> dict[str, Any]:
    if not database_reachable():
        return {"organization": Branding(DEFAULT_ORGANIZATION_NAME, has_logo=False)}
    return {"organization": branding(db())}


def register_branding(app: Flask) -> None:
    """Serve /logo.png and give every template `organization` (name, has_logo)."""
    app.register_blueprint(bp)
    app.context_processor(_organization)
