"""How much of a request body either app reads: small by default, large only for uploads."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from werkzeug.test import EnvironBuilder, run_wsgi_app

from seethesigns.settings import Settings
from seethesigns.web.request_body import SMALL_BODY_BYTES, SMALL_FORM_PARTS
from seethesigns.web.setup import LargeReadsFormParser
from tests.conftest import csrf_token, multipart
from tests.source_interface.test_journey import new_source

MEBIBYTE = 1024 * 1024
FORM = "application/x-www-form-urlencoded"


class LazyBody(io.RawIOBase):
    """A request body of `size` bytes ("aaa...") made up as it is read, counting them."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.read_so_far = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        step = min(len(buffer), self.size - self.read_so_far)
        buffer[:step] = b"a" * step
        self.read_so_far += step
        return step


def post_lazily(app: Flask, path: str, body: LazyBody, content_type: str) -> int:
    """POST a made-up body of body.size bytes; the status code."""
    environ = EnvironBuilder(path=path, method="POST", content_type=content_type).get_environ()
    environ.update({"wsgi.input": body, "CONTENT_LENGTH": str(body.size)})
    _body, status, _headers = run_wsgi_app(app, environ, buffered=True)
    return int(status.split()[0])


@pytest.mark.parametrize("path", ["/login", "/generate", "/create", "/submit", "/no-such-page"])
def test_a_big_form_to_the_source_app_is_refused_unread(source_app: Flask, path: str) -> None:
    """64 MiB of urlencoded form: once parsed in full before the CSRF check."""
    body = LazyBody(64 * MEBIBYTE)
    assert post_lazily(source_app, path, body, FORM) in {404, 405, 413}
    assert body.read_so_far == 0  # nor drained: far over the limit, no upload gone a bit over


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/login", FORM), ("/admin/settings/logo", FORM), ("/api/v1/token", "application/json")],
)
def test_a_big_body_to_the_staff_app_is_refused_unread(
    journalist_app: Flask, path: str, content_type: str
) -> None:
    body = LazyBody(64 * MEBIBYTE)
    assert post_lazily(journalist_app, path, body, content_type) == 413
    assert body.read_so_far == 0


def test_a_body_a_little_over_is_drained_so_the_page_arrives(source_app: Flask) -> None:
    """SecureDrop #6194: an unread body makes the browser show a reset, not our 413 page."""
    body = LazyBody(SMALL_BODY_BYTES + 1)
    assert post_lazily(source_app, "/login", body, FORM) == 413
    assert body.read_so_far == body.size


@pytest.mark.parametrize(
    "content_type", [FORM, "multipart/form-data; boundary=x", "text/plain", "application/json"]
)
def test_anything_over_the_small_limit_is_refused(source_app: Flask, content_type: str) -> None:
    body = LazyBody(SMALL_BODY_BYTES + 1)
    assert post_lazily(source_app, "/login", body, content_type) == 413


def test_a_form_just_under_the_small_limit_is_read(source_app: Flask) -> None:
    """Control: the same request, one byte smaller, reaches the CSRF check (400)."""
    body = LazyBody(SMALL_BODY_BYTES)
    assert post_lazily(source_app, "/login", body, FORM) == 400
    assert body.read_so_far == SMALL_BODY_BYTES


def test_the_upload_route_takes_a_large_body_only_as_multipart(source_app: Flask) -> None:
    client = source_app.test_client()
    new_source(client)
    token = csrf_token(client.get("/lookup").get_data(as_text=True))
    text = "a" * (SMALL_BODY_BYTES + 1)
    as_form = client.post("/submit", data={"csrf_token": token, "msg": text}, content_type=FORM)
    assert as_form.status_code == 413
    body, content_type = multipart({"csrf_token": token}, "fh", "big.bin", b"a" * 3 * MEBIBYTE)
    assert client.post("/submit", data=body, content_type=content_type).status_code == 302


def test_the_longest_message_in_the_widest_characters_fits_the_larger_reads(
    source_app: Flask, settings: Settings
) -> None:
    """The form parser reads the body in pieces of half the field limit (LargeReadsFormParser).

    Werkzeug refuses a read that, with what it holds, passes that limit: the longest message
    allowed, in 4-byte characters, beside a file, must still arrive whole.
    """
    client = source_app.test_client()
    new_source(client)
    token = csrf_token(client.get("/lookup").get_data(as_text=True))
    text = "\U0001f642" * settings.max_message_chars
    body, content_type = multipart(
        {"csrf_token": token, "msg": text}, "fh", "photo.jpg", b"\xff\xd8\xff" + b"b" * MEBIBYTE
    )
    assert client.post("/submit", data=body, content_type=content_type).status_code == 302
    assert len(list(settings.store_dir.rglob("*.gpg"))) == 2


@pytest.mark.parametrize(
    ("field_limit", "read"),
    [
        (None, 1024 * 1024),
        (SMALL_BODY_BYTES, 128 * 1024),
        (64 * 1024, 64 * 1024),
        (1 << 30, 1 << 20),
    ],
)
def test_reads_are_half_the_field_limit_within_64_kib_and_1_mib(
    field_limit: int | None, read: int
) -> None:
    parser = LargeReadsFormParser(max_form_memory_size=field_limit)
    assert parser.read_size() == read


def test_the_report_form_takes_a_few_dozen_parts_not_a_thousand(source_app: Flask) -> None:
    client = source_app.test_client()
    new_source(client)
    token = csrf_token(client.get("/lookup").get_data(as_text=True))
    many = {f"field{n}": "x" for n in range(100)}
    body, content_type = multipart({"csrf_token": token, "msg": "hello", **many}, "fh", "a", b"a")
    assert client.post("/submit", data=body, content_type=content_type).status_code == 413
    few = {f"field{n}": "x" for n in range(40)}
    body, content_type = multipart({"csrf_token": token, "msg": "hello", **few}, "fh", "a", b"a")
    assert client.post("/submit", data=body, content_type=content_type).status_code == 302


def test_other_forms_take_few_parts(source_app: Flask) -> None:
    many = {f"field{n}": "x" for n in range(SMALL_FORM_PARTS + 1)}
    body, content_type = multipart(many, "fh", "a", b"a")
    response = source_app.test_client().post("/login", data=body, content_type=content_type)
    assert response.status_code == 413


class BrokenBody(io.RawIOBase):
    """A body the server fails to read, as gunicorn does a chunked body of `zz`."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        raise RuntimeError("Invalid chunk size: b'zz'")


@pytest.mark.parametrize(
    ("path", "content_type"), [("/login", FORM), ("/api/v1/token", "application/json")]
)
def test_a_body_the_server_cannot_read_is_a_400(
    journalist_app: Flask, path: str, content_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    environ = EnvironBuilder(path=path, method="POST", content_type=content_type).get_environ()
    environ.update({"wsgi.input": BrokenBody(), "CONTENT_LENGTH": "100"})
    _body, status, headers = run_wsgi_app(journalist_app, environ, buffered=True)
    assert status.startswith("400 ")
    assert ("Connection", "close") in list(headers.items())
    assert "Traceback" not in caplog.text and not caplog.records
