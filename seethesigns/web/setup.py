"""register_* helpers that both app factories call."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import IO, Any

from flask import (
    Flask,
    Request,
    current_app,
    g,
    jsonify,
    make_response,
    render_template,
    request,
)
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.formparser import FormDataParser, MultiPartParser

from seethesigns.codenames import CodenameDeriver
from seethesigns.db import UNAVAILABLE, engine_for, make_session_factory
from seethesigns.encryption import GpgService, SubmissionKeyUnavailable
from seethesigns.recipients import checked_fingerprints
from seethesigns.settings import InterfaceSettings, Settings
from seethesigns.storage import Store
from seethesigns.uploads import EncryptedSpool
from seethesigns.web.request_body import (
    SMALL_BODY_BYTES,
    SMALL_FORM_PARTS,
    apply_body_limit,
    body_left_unread,
    readable_bodies,
)
from seethesigns.web.sessions import ServerSessionInterface

EXTENSION = "seethesigns"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# The staff interface's Journalist API: its clients get JSON errors, never HTML pages.
API_PATH = "/api/"


@dataclass
class Services:
    """The collaborators a request needs, built once per app in create_app."""

    settings: Settings
    db: sessionmaker[Session]
    gpg: GpgService
    store: Store
    deriver: CodenameDeriver
    key_checked_at: float = field(default=float("-inf"))
    key_problem: str | None = None


def build_services(settings: Settings) -> Services:
    """Build the services for one app from its settings."""
    return Services(
        settings=settings,
        db=make_session_factory(engine_for(settings)),
        gpg=GpgService(
            settings.gnupg_homedir, settings.submission_key_fingerprint, settings.tmp_dir
        ),
        store=Store(settings.store_dir),
        deriver=CodenameDeriver(
            settings.pepper_filesystem_id, settings.pepper_key_secret, settings.argon2
        ),
    )


def services() -> Services:
    """The services of the current app."""
    found: Services = current_app.extensions[EXTENSION]
    return found


def database_reachable() -> bool:
    """False once this request found the database unavailable (pages then use defaults)."""
    return not g.get("database_unavailable", False)


def db() -> Session:
    """The database session of the current request, opened on first use."""
    if "db" not in g:
        g.db = services().db()
    session: Session = g.db
    return session


def _close_db(_exc: BaseException | None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()


class LargeReadsFormParser(FormDataParser):
    """Werkzeug's form parser reading the body in larger pieces than its 64 KiB.

    The multipart decoder does its work (a boundary search, a copy out of its buffer) once
    per read: at 64 KiB a 1 GiB upload is 16,384 rounds of it in Python. A read must stay
    well under max_form_memory_size, which Werkzeug also checks against each read's bytes
    plus what its buffer holds, so it is half that limit, up to 1 MiB.
    """

    SMALLEST_READ = 64 * 1024
    LARGEST_READ = 1024 * 1024

    def read_size(self) -> int:
        """The bytes of each read of the body."""
        if self.max_form_memory_size is None:
            return self.LARGEST_READ
        half = self.max_form_memory_size // 2
        return max(self.SMALLEST_READ, min(self.LARGEST_READ, half))

    def _parse_multipart(
        self,
        stream: IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str],
    ) -> tuple[IO[bytes], MultiDict[str, str], MultiDict[str, FileStorage]]:
        parser = MultiPartParser(
            stream_factory=self.stream_factory,
            max_form_memory_size=self.max_form_memory_size,
            max_form_parts=self.max_form_parts,
            cls=self.cls,
            buffer_size=self.read_size(),
        )
        boundary = options.get("boundary", "").encode("ascii")
        if not boundary:
            raise ValueError("Missing boundary")
        form, files = parser.parse(stream, boundary, content_length)
        return stream, form, files


class EncryptedUploadRequest(Request):
    """A request whose uploaded files are spooled encrypted, never in plaintext."""

    form_data_parser_class = LargeReadsFormParser

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> Any:
        settings = services().settings
        return EncryptedSpool(settings.tmp_dir, settings.max_upload_bytes)


def _security_headers(response: Any) -> Any:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    return response


def _check_submission_key() -> Any:
    """Refuse to serve while an active recipient key is missing or unusable.

    The quick exit is never refused: it must leave, whatever state the server is in.
    """
    if request.endpoint in ("static", "quick_exit.leave"):
        return None
    found = services()
    now = time.monotonic()
    if now - found.key_checked_at >= found.settings.key_check_interval_seconds:
        try:
            with found.db() as session:
                found.gpg.check_submission_key(checked_fingerprints(session, found.gpg))
            found.key_problem = None
        except SubmissionKeyUnavailable as exc:
            found.key_problem = str(exc)
        found.key_checked_at = now
    if found.key_problem is not None:
        current_app.logger.error("submission key unusable: %s", found.key_problem)
        if request.path.startswith(API_PATH):
            return _json_error("Service Unavailable", "The submission key is unusable.", 503)
        return render_template("unavailable.html"), 503
    return None


def _json_error(name: str, message: str | None, code: int) -> Any:
    """SecureDrop's API error body: {"error": ..., "message": ...}."""
    return jsonify({"error": name, "message": message}), code


def _error_page(exc: HTTPException) -> Any:
    closing = body_left_unread(exc)
    code = exc.code or 500
    if request.path.startswith(API_PATH):
        response = make_response(_json_error(exc.name, exc.description, code))
    else:
        page = render_template("error.html", code=code, csrf_error=isinstance(exc, CSRFError))
        response = make_response(page, code)
    if closing:
        # The rest of the body may still be on its way: this connection is finished.
        response.headers["Connection"] = "close"
    return response


def _internal_error(exc: Exception) -> Any:
    current_app.logger.exception("unhandled error in %s", request.endpoint)
    if request.path.startswith(API_PATH):
        return _json_error("Internal Server Error", "The server could not do that.", 500)
    return render_template("error.html", code=500, csrf_error=False), 500


def _database_unavailable(exc: Exception) -> Any:
    """The database is down, locked past its timeout, or every pooled connection is busy.

    Nothing was committed (the request's session rolls back as it closes), so the person is
    told to try again, with a 503 rather than a 500 that reads as a bug.
    """
    current_app.logger.warning("database unavailable in %s: %s", request.endpoint, type(exc))
    g.database_unavailable = True  # the page wears the defaults, not the instance's settings
    if request.path.startswith(API_PATH):
        response = make_response(
            _json_error("Service Unavailable", "The server is busy. Try again shortly.", 503)
        )
    else:
        page = render_template("error.html", code=503, csrf_error=False)
        response = make_response(page, 503)
    response.headers["Retry-After"] = "5"
    return response


def register_core(
    app: Flask,
    settings: Settings,
    interface: InterfaceSettings,
    name: str,
    found: Services | None = None,
) -> Services:
    """Wire services, sessions, CSRF, headers, the key check and error pages into app."""
    found = found or build_services(settings)
    app.extensions[EXTENSION] = found
    app.request_class = EncryptedUploadRequest
    app.wsgi_app = readable_bodies(app.wsgi_app)  # type: ignore[method-assign]
    app.config.update(
        SECRET_KEY=interface.secret_key,
        SESSION_COOKIE_NAME=interface.session_cookie_name,
        # Views that take more (uploads) say so with takes_body; see request_body.
        MAX_CONTENT_LENGTH=SMALL_BODY_BYTES,
        MAX_FORM_MEMORY_SIZE=SMALL_BODY_BYTES,
        MAX_FORM_PARTS=SMALL_FORM_PARTS,
        SEETHESIGNS_MAX_UPLOAD_BYTES=settings.max_upload_bytes,  # what pages tell people
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the server-side session
    )
    app.session_interface = ServerSessionInterface(
        found.db, name, timedelta(minutes=interface.session_idle_minutes)
    )
    app.before_request(partial(apply_body_limit, settings))  # before CSRF reads the form
    CSRFProtect(app)
    app.teardown_appcontext(_close_db)
    app.before_request(_check_submission_key)
    app.after_request(_security_headers)
    app.register_error_handler(HTTPException, _error_page)
    app.register_error_handler(Exception, _internal_error)
    for error in UNAVAILABLE:
        app.register_error_handler(error, _database_unavailable)
    return found
