"""Storing what a source sends: encrypted, numbered, and all or nothing."""

from __future__ import annotations

import gzip
import io
import os

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from seethesigns.db import make_engine, make_session_factory
from seethesigns.encryption import GpgService
from seethesigns.models import Source, Submission
from seethesigns.settings import Settings
from seethesigns.sources import LoggedInSource
from seethesigns.storage import StorageError, Store, checksum
from seethesigns.submissions import Document, delete_submission, submissions_of, submit
from seethesigns.uploads import EncryptedSpool
from tests.conftest import OfflineKey

MESSAGE = "They make me carry things to another town. 😟"


class BreaksAfter(io.RawIOBase):
    """An upload whose connection drops after `limit` bytes."""

    def __init__(self, data: bytes, limit: int) -> None:
        self._data = data
        self._limit = limit
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._pos >= self._limit:
            raise OSError("connection reset by peer")
        chunk = self._data[self._pos : min(self._limit, self._pos + len(buffer))]
        buffer[: len(chunk)] = chunk
        self._pos += len(chunk)
        return len(chunk)


def spooled(data: bytes, settings: Settings) -> EncryptedSpool:
    """An upload as the apps hand it over: spooled encrypted, rewound."""
    spool = EncryptedSpool(settings.tmp_dir, settings.max_upload_bytes)
    spool.write(data)
    spool.seek(0)
    return spool


def gunzip_named(data: bytes) -> tuple[str, bytes]:
    """The FNAME of a gzip stream and its content."""
    assert data[3] & 0x08
    name = data[10 : data.index(b"\x00", 10)].decode("utf-8")
    return name, gzip.decompress(data)


def stored_files(store: Store, source: LoggedInSource) -> list[str]:
    folder = store.source_dir(source.source.filesystem_id)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_message_and_document(
    db: Session,
    store: Store,
    gpg: GpgService,
    source: LoggedInSource,
    offline_key: OfflineKey,
    settings: Settings,
) -> None:
    upload = os.urandom(1024 * 1024) + b"the end"
    with spooled(upload, settings) as stream:
        rows = submit(
            db, store, gpg, source.source, MESSAGE, [Document(stream, "../evidence/photo 1.jpg")]
        )
    slug = source.source.designation.replace(" ", "_")
    assert [row.filename for row in rows] == [f"1-{slug}-msg.gpg", f"2-{slug}-doc.gz.gpg"]
    assert [row.is_message for row in rows] == [True, False]
    assert stored_files(store, source) == sorted(row.filename for row in rows)
    message, document = (store.path(source.source.filesystem_id, row.filename) for row in rows)
    assert MESSAGE.encode() not in message.read_bytes()
    assert offline_key.decrypt(message.read_bytes()).decode() == MESSAGE
    assert gunzip_named(offline_key.decrypt(document.read_bytes())) == ("photo 1.jpg", upload)
    for row, path in zip(rows, (message, document), strict=True):
        assert row.size == path.stat().st_size
        assert row.checksum == checksum(path)
    db.expire_all()
    assert [s.filename for s in submissions_of(db, source.source)] == [r.filename for r in rows]


def test_numbers_continue_across_submissions(
    db: Session, store: Store, gpg: GpgService, source: LoggedInSource
) -> None:
    submit(db, store, gpg, source.source, "one", [])
    (second,) = submit(db, store, gpg, source.source, "two", [])
    assert second.filename.startswith("2-")


def test_several_documents_without_a_message(
    db: Session,
    store: Store,
    gpg: GpgService,
    source: LoggedInSource,
    offline_key: OfflineKey,
    settings: Settings,
) -> None:
    documents = [Document(io.BytesIO(b"first"), "a.txt"), Document(io.BytesIO(b""), "")]
    rows = submit(db, store, gpg, source.source, None, documents)
    assert [row.filename.split("-")[0] for row in rows] == ["1", "2"]
    contents = [
        gunzip_named(
            offline_key.decrypt(store.path(source.source.filesystem_id, row.filename).read_bytes())
        )
        for row in rows
    ]
    assert contents == [("a.txt", b"first"), ("document", b"")]


def test_nothing_to_submit_stores_nothing(
    db: Session, store: Store, gpg: GpgService, source: LoggedInSource
) -> None:
    assert submit(db, store, gpg, source.source, "", []) == []
    assert stored_files(store, source) == []


def test_all_or_nothing_when_an_upload_breaks(
    db: Session, store: Store, gpg: GpgService, source: LoggedInSource, settings: Settings
) -> None:
    data = os.urandom(3 * 1024 * 1024)
    documents = [
        Document(io.BytesIO(b"a whole first document"), "first.txt"),
        Document(BreaksAfter(data, 2 * 1024 * 1024 + 5), "second.bin"),
    ]
    with pytest.raises(StorageError, match="connection reset"):
        submit(db, store, gpg, source.source, MESSAGE, documents)
    assert stored_files(store, source) == []
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Submission)) == 0
    assert list(settings.tmp_dir.iterdir()) == []


def test_after_a_failure_the_next_submission_works(
    db: Session, store: Store, gpg: GpgService, source: LoggedInSource
) -> None:
    with pytest.raises(StorageError, match="connection reset"):
        submit(
            db, store, gpg, source.source, "first try", [Document(BreaksAfter(b"x" * 100, 10), "x")]
        )
    (row,) = submit(db, store, gpg, source.source, "second try", [])
    assert stored_files(store, source) == [row.filename]


def test_delete_submission(
    db: Session, store: Store, gpg: GpgService, source: LoggedInSource
) -> None:
    first, second = (submit(db, store, gpg, source.source, text, [])[0] for text in "ab")
    delete_submission(db, store, source.source, first)
    assert stored_files(store, source) == [second.filename]
    db.expire_all()
    assert [s.id for s in submissions_of(db, source.source)] == [second.id]


def test_deleting_a_submission_someone_just_deleted_is_fine(
    db: Session, store: Store, gpg: GpgService, source: LoggedInSource, settings: Settings
) -> None:
    """The same deletion twice at once: the second finds the file and the row gone."""
    (item,) = submit(db, store, gpg, source.source, "a", [])
    engine = make_engine(settings.database_url)
    with make_session_factory(engine)() as other:
        same = other.get(Submission, item.id)
        same_source = other.get(Source, source.source.id)
        assert same is not None and same_source is not None
        delete_submission(db, store, source.source, item)
        delete_submission(other, store, same_source, same)
    engine.dispose()
    assert db.scalar(select(func.count()).select_from(Submission)) == 0
