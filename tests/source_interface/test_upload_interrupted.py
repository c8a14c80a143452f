"""A file that cannot be kept as it arrived: a clear page, the words kept, nothing stored."""

from __future__ import annotations

import io

from flask import Flask
from flask.testing import FlaskClient

from seethesigns.db import make_engine, make_session_factory
from seethesigns.encryption import GpgService
from seethesigns.recipients import add_recipient
from seethesigns.settings import Settings
from tests.conftest import SpareKeys, csrf_token, multipart
from tests.source_interface.test_journey import new_source

MEBIBYTE = 1024 * 1024


class ChangingBody(io.RawIOBase):
    """A request body that runs `change` once half of it has been read by the server."""

    def __init__(self, body: bytes, change: object) -> None:
        self._body = io.BytesIO(body)
        self._half = len(body) // 2
        self._change = change

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._body.tell()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._body.seek(offset, whence)

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._change is not None and self._body.tell() >= self._half:
            change, self._change = self._change, None
            change()  # type: ignore[operator]
        return self._body.readinto(buffer)


def test_a_key_added_while_a_file_arrives_asks_for_the_file_again(
    source_app: Flask, source_client: FlaskClient, settings: Settings, spare_keys: SpareKeys
) -> None:
    new_source(source_client)
    token = csrf_token(source_client.get("/lookup").get_data(as_text=True))
    words = "They make me carry things after school."
    body, content_type = multipart(
        {"csrf_token": token, "what": words},
        "fh",
        "photo.jpg",
        b"\xff\xd8\xff" + bytes(4 * MEBIBYTE),
    )

    def add_on_call_key() -> None:
        engine = make_engine(settings.database_url)
        gpg = GpgService(
            settings.gnupg_homedir, settings.submission_key_fingerprint, settings.tmp_dir
        )
        with make_session_factory(engine)() as db:
            add_recipient(db, gpg, "On-call", spare_keys.on_call.public_key)
        engine.dispose()

    response = source_client.post(
        "/submit",
        input_stream=ChangingBody(body, add_on_call_key),
        content_type=content_type,
        content_length=len(body),
    )
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "choose the file again" in page
    assert words in page  # what they wrote is still in the box
    assert "Retry-After" in response.headers
    assert not list(settings.store_dir.rglob("*.gpg"))
    assert not list(settings.store_dir.rglob("*.partial"))
    # Sent again, it goes to every key, the new one too.
    body, content_type = multipart({"csrf_token": token, "what": words}, "fh", "photo.jpg", b"x")
    assert source_client.post("/submit", data=body, content_type=content_type).status_code == 302
    assert len(list(settings.store_dir.rglob("*.gpg"))) == 2
