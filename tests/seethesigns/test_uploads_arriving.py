"""Uploads encrypted while they arrive (issue 16): ciphertext only, and all or nothing."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from seethesigns.encryption import IOV_MAX, EncryptionError, GpgService, Piece
from seethesigns.settings import Settings
from seethesigns.sources import LoggedInSource
from seethesigns.storage import Store, checksum
from seethesigns.uploads import EncryptingUpload, UploadTooLarge
from tests.conftest import OfflineKey

MARKER = b"SECRET-PLAINTEXT-MARKER-"
PIECE = 64 * 1024


def arriving(
    store: Store, gpg: GpgService, source: LoggedInSource, name: str, max_bytes: int = 2**30
) -> EncryptingUpload:
    """An upload as the source app starts one for a file part."""
    partial = store.partial_path(source.source.filesystem_id)
    recipients = [gpg.submission_fingerprint]
    pipe = gpg.start_encryption(partial, recipients)
    return EncryptingUpload(pipe, partial, name, recipients, max_bytes)


def feed(upload: EncryptingUpload, data: bytes) -> None:
    """Write data in the pieces the form parser uses."""
    for start in range(0, len(data), PIECE):
        upload.write(data[start : start + PIECE])


def text(size: int) -> bytes:
    """Compressible content with the plaintext marker throughout."""
    line = MARKER + os.urandom(8).hex().encode() + b"\n"
    return (line * (size // len(line) + 1))[:size]


@pytest.mark.parametrize("content", [text(3 * 1024 * 1024), os.urandom(3 * 1024 * 1024), b""])
def test_the_whole_file_arrives_encrypted(
    store: Store,
    gpg: GpgService,
    source: LoggedInSource,
    offline_key: OfflineKey,
    content: bytes,
) -> None:
    upload = arriving(store, gpg, source, "../notes ü.txt")
    feed(upload, content)
    assert upload.partial.exists() or not content  # gpg opens its output on its first block
    assert upload.seek(0) == 0  # the parser's rewind: the end of the part
    partial, digest = upload.ciphertext([gpg.submission_fingerprint])
    assert digest == checksum(partial)
    ciphertext = partial.read_bytes()
    assert MARKER not in ciphertext
    gzipped = offline_key.decrypt(ciphertext)
    assert gzipped[10 : gzipped.index(b"\x00", 10)] == "notes ü.txt".encode()
    assert gzip.decompress(gzipped) == content
    upload.close()


def test_on_disk_meanwhile_there_is_only_ciphertext(
    store: Store, gpg: GpgService, source: LoggedInSource
) -> None:
    upload = arriving(store, gpg, source, "notes.txt")
    feed(upload, os.urandom(2 * 1024 * 1024) + text(4 * 1024 * 1024))
    folder = store.source_dir(source.source.filesystem_id)
    (partial,) = folder.iterdir()
    assert partial.name.startswith(".partial-")
    assert MARKER not in partial.read_bytes()
    upload.close()


def test_closed_before_its_end_nothing_stays(
    store: Store, gpg: GpgService, source: LoggedInSource
) -> None:
    """A request that breaks off mid-file: gpg is stopped, the partial file removed."""
    upload = arriving(store, gpg, source, "notes.txt")
    feed(upload, text(2 * 1024 * 1024))
    upload.close()
    assert not store.source_dir(source.source.filesystem_id).exists()  # not even the folder
    with pytest.raises(EncryptionError, match="did not arrive"):
        upload.ciphertext([gpg.submission_fingerprint])


def test_closed_after_its_end_but_never_stored_nothing_stays(
    store: Store, gpg: GpgService, source: LoggedInSource
) -> None:
    """The view refused the report (uploads off, a bad CSRF token): the file goes."""
    upload = arriving(store, gpg, source, "notes.txt")
    feed(upload, text(100_000))
    upload.seek(0)
    upload.close()
    assert not store.source_dir(source.source.filesystem_id).exists()  # not even the folder


def test_a_file_over_the_limit_is_refused(
    store: Store, gpg: GpgService, source: LoggedInSource
) -> None:
    upload = arriving(store, gpg, source, "big.bin", max_bytes=PIECE * 3)
    feed(upload, bytes(PIECE * 3))
    with pytest.raises(UploadTooLarge):
        upload.write(b"x")
    upload.close()
    assert not store.source_dir(source.source.filesystem_id).exists()  # not even the folder


def test_keys_that_changed_meanwhile_are_not_trusted(
    store: Store, gpg: GpgService, source: LoggedInSource
) -> None:
    upload = arriving(store, gpg, source, "notes.txt")
    feed(upload, text(1000))
    upload.seek(0)
    with pytest.raises(EncryptionError, match="changed"):
        upload.ciphertext([gpg.submission_fingerprint, "0" * 40])
    upload.close()


def test_a_gpg_failure_is_raised_when_the_file_is_stored(
    store: Store, gpg: GpgService, source: LoggedInSource, settings: Settings
) -> None:
    """gpg cannot write its output: the parser is not interrupted; storing raises."""
    folder = settings.tmp_dir / "not-here"
    partial = folder / ".partial-x"  # a folder that does not exist: gpg fails to open it
    recipients = [gpg.submission_fingerprint]
    upload = EncryptingUpload(
        gpg.start_encryption(partial, recipients), partial, "a", recipients, 2**30
    )
    feed(upload, os.urandom(4 * 1024 * 1024))
    upload.seek(0)
    with pytest.raises(EncryptionError):
        upload.ciphertext(recipients)
    upload.close()
    assert not Path(folder).exists()


def test_gpg_refusing_the_key_is_raised_when_the_file_is_stored(
    store: Store, gpg: GpgService, source: LoggedInSource
) -> None:
    """gpg exits at once (no such key): the parser's writes are dropped, storing raises."""
    partial = store.partial_path(source.source.filesystem_id)
    recipients = ["0" * 40]
    upload = EncryptingUpload(
        gpg.start_encryption(partial, recipients), partial, "a", recipients, 2**30
    )
    feed(upload, os.urandom(4 * 1024 * 1024))
    upload.seek(0)
    with pytest.raises(EncryptionError, match="gpg exit status 2"):
        upload.ciphertext(recipients)
    upload.close()
    assert not store.source_dir(source.source.filesystem_id).exists()  # not even the folder


def test_pieces_past_one_writev_arrive_in_order(
    store: Store, gpg: GpgService, source: LoggedInSource, offline_key: OfflineKey
) -> None:
    """More pieces than one writev takes (IOV_MAX), of every length, reach gpg in order."""
    partial = store.partial_path(source.source.filesystem_id)
    pipe = gpg.start_encryption(partial, [gpg.submission_fingerprint])
    pieces: list[Piece] = [os.urandom(length % 97) for length in range(3 * IOV_MAX)]
    pieces += [memoryview(os.urandom(300_000))[7:], b"", memoryview(b"end")]
    pipe.write(pieces)
    digest = pipe.finish()
    assert digest == checksum(partial)
    assert offline_key.decrypt(partial.read_bytes()) == b"".join(pieces)
