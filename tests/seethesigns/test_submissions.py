"""Storing what a source sends: encrypted, numbered, and all or nothing."""

from __future__ import annotations

import gzip
import io
import os
import struct

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


def deflate_blocks(gzipped: bytes) -> list[tuple[int, int]]:
    """(type, stored length) of each deflate block, read until the first non-stored one.

    A stored block (type 0) is byte-aligned after its 3 header bits: LEN, NLEN, then LEN
    bytes. Only stored blocks are walked: a compressed block ends the walk.
    """
    pos = gzipped.index(b"\x00", 10) + 1  # after the FNAME
    blocks = []
    while True:
        header = gzipped[pos]
        kind = (header >> 1) & 3
        if kind != 0:
            blocks.append((kind, 0))
            return blocks
        length, inverse = struct.unpack("<HH", gzipped[pos + 1 : pos + 5])
        assert length ^ inverse == 0xFFFF
        blocks.append((0, length))
        pos += 5 + length
        if header & 1:
            return blocks


def stored_document(
    content: bytes,
    name: str,
    db: Session,
    store: Store,
    gpg: GpgService,
    source: LoggedInSource,
    offline_key: OfflineKey,
    settings: Settings,
) -> bytes:
    """Submit one document; its gzip as the workstation gets it after decrypting."""
    with spooled(content, settings) as stream:
        (row,) = submit(db, store, gpg, source.source, None, [Document(stream, name)])
    return offline_key.decrypt(store.path(source.source.filesystem_id, row.filename).read_bytes())


def test_random_bytes_are_stored_not_deflated(
    db: Session,
    store: Store,
    gpg: GpgService,
    source: LoggedInSource,
    offline_key: OfflineKey,
    settings: Settings,
) -> None:
    """Issue 16: incompressible data goes in gzip's stored blocks (level 0), 64 KiB each."""
    upload = os.urandom(3 * 1024 * 1024 + 17)
    gzipped = stored_document(upload, "clip.bin", db, store, gpg, source, offline_key, settings)
    assert gunzip_named(gzipped) == ("clip.bin", upload)
    blocks = deflate_blocks(gzipped)
    assert {kind for kind, _ in blocks} == {0}
    assert sum(length for _, length in blocks) == len(upload)
    # Level 0 fills blocks of up to 64 KiB; deflating at any level > 0 ends a block every
    # 16 K symbols, so its stored blocks are 16 KiB (192 of them here, against about 50).
    assert len(blocks) < len(upload) // 32768
    assert len(gzipped) <= len(upload) + 10 + len("clip.bin") + 1 + 5 * len(blocks) + 8


def test_text_is_deflated(
    db: Session,
    store: Store,
    gpg: GpgService,
    source: LoggedInSource,
    offline_key: OfflineKey,
    settings: Settings,
) -> None:
    words = b" ".join(os.urandom(3).hex().encode() for _ in range(200_000))
    gzipped = stored_document(words, "notes.txt", db, store, gpg, source, offline_key, settings)
    assert gunzip_named(gzipped) == ("notes.txt", words)
    assert deflate_blocks(gzipped)[0][0] != 0
    assert len(gzipped) < 0.65 * len(words)


def test_a_compressed_format_is_stored_even_when_its_start_compresses(
    db: Session,
    store: Store,
    gpg: GpgService,
    source: LoggedInSource,
    offline_key: OfflineKey,
    settings: Settings,
) -> None:
    """A JPEG may open with a long, compressible EXIF block; what follows is entropy-coded."""
    photo = b"\xff\xd8\xff\xe1" + bytes(100_000) + os.urandom(200_000)
    gzipped = stored_document(photo, "photo.jpg", db, store, gpg, source, offline_key, settings)
    assert gunzip_named(gzipped) == ("photo.jpg", photo)
    assert {kind for kind, _ in deflate_blocks(gzipped)} == {0}
