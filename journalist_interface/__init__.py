"""The staff interface: where the safeguarding team reads reports and replies."""

from __future__ import annotations

from flask import Flask

from journalist_interface import api, staff_session
from journalist_interface.audit_trail import check_audit_key
from journalist_interface.views import (
    account,
    admin_audit,
    admin_figures,
    admin_recipients,
    admin_settings,
    admin_staff,
    admin_teams,
    alerts,
    auth,
    bulk,
    case_teams,
    cases,
    first_login,
    items,
    reading_help,
    reauth,
    sources,
)
from seethesigns.settings import Settings
from seethesigns.staff_accounts import StaffAccounts
from seethesigns.web.branding import register_branding
from seethesigns.web.setup import Services, register_core


def create_app(settings: Settings, services: Services | None = None) -> Flask:
    """Build the staff app from settings (and, in tests, ready-made services)."""
    app = Flask(__name__)
    register_core(app, settings, settings.journalist, "journalist", services)
    check_audit_key(settings)
    app.extensions[staff_session.STAFF_EXTENSION] = StaffAccounts(settings.argon2, settings.login)
    app.register_blueprint(auth.bp)
    app.register_blueprint(reauth.bp)
    app.register_blueprint(first_login.bp)
    app.register_blueprint(sources.bp)
    app.register_blueprint(items.bp)
    app.register_blueprint(reading_help.bp)
    app.register_blueprint(cases.bp)
    app.register_blueprint(bulk.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(admin_staff.bp)
    app.register_blueprint(admin_settings.bp)
    app.register_blueprint(admin_recipients.bp)
    app.register_blueprint(admin_teams.bp)
    app.register_blueprint(case_teams.bp)
    app.register_blueprint(alerts.bp)
    app.register_blueprint(admin_audit.bp)
    app.register_blueprint(admin_figures.bp)
    register_branding(app)
    api.register(app)
    return app
