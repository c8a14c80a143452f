"""The source interface: where a young person makes a report and reads replies."""

from __future__ import annotations

from flask import Flask

from seethesigns.settings import Settings
from seethesigns.web.branding import register_branding
from seethesigns.web.setup import Services, register_core
from source_interface.languages import register_languages
from source_interface.upload_request import ArrivingUploadRequest
from source_interface.views import advice, auth, clearnet, main, quick_exit, reports, waiting


def create_app(settings: Settings, services: Services | None = None) -> Flask:
    """Build the source app from settings (and, in tests, ready-made services)."""
    app = Flask(__name__)
    register_core(app, settings, settings.source, "source", services)
    app.request_class = ArrivingUploadRequest
    app.register_blueprint(clearnet.bp)  # first: with Tor required, nothing else answers
    app.register_blueprint(main.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(waiting.bp)
    app.register_blueprint(advice.bp)
    app.register_blueprint(quick_exit.bp)
    register_branding(app)
    register_languages(app)
    return app
