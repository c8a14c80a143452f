"""The staff interface: where the safeguarding team reads reports and replies."""

from __future__ import annotations

from flask import Flask

from journalist_interface import staff_session
from journalist_interface.views import auth, items, sources
from seethesigns.settings import Settings
from seethesigns.staff_accounts import StaffAccounts
from seethesigns.web.setup import Services, register_core


def create_app(settings: Settings, services: Services | None = None) -> Flask:
    """Build the staff app from settings (and, in tests, ready-made services)."""
    app = Flask(__name__)
    register_core(app, settings, settings.journalist, "journalist", services)
    app.extensions[staff_session.STAFF_EXTENSION] = StaffAccounts(settings.argon2, settings.login)
    app.register_blueprint(auth.bp)
    app.register_blueprint(sources.bp)
    app.register_blueprint(items.bp)
    return app
