"""The store: names, atomic arrival, refusal of foreign paths, and destruction."""

from __future__ import annotations

import hashlib
import os
from functools import partial
from pathlib import Path

import pytest

from seethesigns.storage import (
    StorageError,
    Store,
    checksum,
    designation_slug,
    document_name,
    message_name,
    reply_name,
)
from tests.conftest import at_once

FS_ID = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A store in a fresh directory."""
    root = tmp_path / "store"
    root.mkdir()
    return Store(root)


def test_names() -> None:
    assert designation_slug("Gentle Otter") == "gentle_otter"
    assert message_name(1, "gentle otter") == "1-gentle_otter-msg.gpg"
    assert document_name(2, "gentle otter") == "2-gentle_otter-doc.gz.gpg"
    assert reply_name(13, "gentle otter") == "13-gentle_otter-reply.gpg"


def test_arriving_file_is_stored_under_its_final_name(store: Store) -> None:
    name = message_name(1, "gentle otter")
    with store.arriving(FS_ID, name) as partial:
        assert partial.parent == store.root / FS_ID
        assert partial.name != name
        partial.write_bytes(b"ciphertext")
        assert not store.path(FS_ID, name).exists()
    assert store.path(FS_ID, name).read_bytes() == b"ciphertext"
    assert [p.name for p in (store.root / FS_ID).iterdir()] == [name]
    assert (store.root / FS_ID).stat().st_mode & 0o777 == 0o700


def test_a_stored_file_is_private_whatever_the_writer_s_umask(store: Store) -> None:
    name = message_name(1, "gentle otter")
    old = os.umask(0o022)  # gpg writes the file with the umask it inherited
    try:
        with store.arriving(FS_ID, name) as partial:
            partial.write_bytes(b"ciphertext")
    finally:
        os.umask(old)
    assert store.path(FS_ID, name).stat().st_mode & 0o777 == 0o600


def test_failed_arrival_leaves_nothing(store: Store) -> None:
    name = message_name(1, "gentle otter")
    with pytest.raises(RuntimeError, match="gpg died"), store.arriving(FS_ID, name) as partial:
        partial.write_bytes(b"half a ciphertext")
        raise RuntimeError("gpg died")
    assert list((store.root / FS_ID).iterdir()) == []


def test_arrival_of_nothing_written_is_an_error(store: Store) -> None:
    name = message_name(1, "gentle otter")
    with pytest.raises(StorageError), store.arriving(FS_ID, name):
        pass
    assert list((store.root / FS_ID).iterdir()) == []


def test_arriving_refuses_to_replace_a_stored_file(store: Store) -> None:
    name = message_name(1, "gentle otter")
    with store.arriving(FS_ID, name) as partial:
        partial.write_bytes(b"first")
    with pytest.raises(StorageError, match="already exists"), store.arriving(FS_ID, name):
        pytest.fail("the body must not run")
    assert store.path(FS_ID, name).read_bytes() == b"first"


@pytest.mark.parametrize(
    "filesystem_id",
    [
        "",
        "../../etc",
        "abcdefghijklmnopqrstuvwxyz234567",
        "ABCDEFGHIJKLMNO",
        "A" * 97,
        FS_ID + "/..",
        FS_ID + "\n",
        "ABCDEFGHIJKLMNOP0189",
    ],
)
def test_bad_filesystem_ids_are_refused(store: Store, filesystem_id: str) -> None:
    with pytest.raises(StorageError):
        store.source_dir(filesystem_id)
    with pytest.raises(StorageError):
        store.path(filesystem_id, message_name(1, "gentle otter"))


@pytest.mark.parametrize(
    "filename",
    [
        "",
        "../1-x-msg.gpg",
        "1-x-msg.gpg/../../etc/passwd",
        "/etc/passwd",
        "1-x-msg.txt",
        "x-gentle-msg.gpg",
        "1-Gentle-msg.gpg",
        ".partial-0123",
        "1-x-msg.gpg\n",
        "-1-x-msg.gpg",
    ],
)
def test_bad_names_are_refused(store: Store, filename: str) -> None:
    with pytest.raises(StorageError):
        store.path(FS_ID, filename)
    with pytest.raises(StorageError), store.arriving(FS_ID, filename):
        pytest.fail("the body must not run")


def test_destroy_overwrites_before_unlinking(store: Store, tmp_path: Path) -> None:
    name = document_name(1, "gentle otter")
    content = os.urandom(3 * 1024 * 1024 + 17)
    with store.arriving(FS_ID, name) as partial:
        partial.write_bytes(content)
    path = store.path(FS_ID, name)
    # A second name for the same inode shows what was left in the file's blocks.
    witness = tmp_path / "witness"
    os.link(path, witness)
    store.destroy(path)
    assert not path.exists()
    assert witness.read_bytes() == bytes(len(content))


def test_destroy_of_a_missing_file_is_quiet(store: Store) -> None:
    store.destroy(store.root / "nothing-here")


def test_the_same_file_destroyed_by_several_at_once_is_fine(store: Store) -> None:
    """Identical deletions at the same moment: each finds the file gone at some step."""
    for round_ in range(50):
        name = message_name(round_ + 1, "gentle otter")
        with store.arriving(FS_ID, name) as arriving:
            arriving.write_bytes(b"secret" * 1000)
        at_once(4, partial(store.destroy, store.path(FS_ID, name)))
        assert not store.path(FS_ID, name).exists()


def test_the_same_source_destroyed_by_several_at_once_is_fine(store: Store) -> None:
    for round_ in range(20):
        for n in range(1, 4):
            name = message_name(round_ * 3 + n, "gentle otter")
            with store.arriving(FS_ID, name) as arriving:
                arriving.write_bytes(b"secret")
        at_once(4, partial(store.destroy_source, FS_ID))
        assert not store.source_dir(FS_ID).exists()


def test_destroy_source_removes_the_folder(store: Store, tmp_path: Path) -> None:
    names = [message_name(1, "gentle otter"), reply_name(2, "gentle otter")]
    for name in names:
        with store.arriving(FS_ID, name) as partial:
            partial.write_bytes(b"secret" * 100)
    os.link(store.path(FS_ID, names[0]), tmp_path / "witness")
    (store.source_dir(FS_ID) / ".partial-leftover").write_bytes(b"x")
    store.destroy_source(FS_ID)
    assert not store.source_dir(FS_ID).exists()
    assert (tmp_path / "witness").read_bytes() == bytes(600)
    store.destroy_source(FS_ID)  # a second time is quiet


def test_destroy_source_refuses_a_bad_id(store: Store) -> None:
    with pytest.raises(StorageError):
        store.destroy_source("..")


def test_checksum_format(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"abc" * 1_000_000)
    assert checksum(path) == "sha256:" + hashlib.sha256(b"abc" * 1_000_000).hexdigest()


def test_a_source_folder_moves_to_a_new_name_and_a_missing_one_is_fine(store: Store) -> None:
    name = message_name(1, "gentle otter")
    with store.arriving(FS_ID, name) as partial:
        partial.write_bytes(b"kept")
    store.move_source(FS_ID, "KEPTKEPTKEPTKEPT")
    assert store.path("KEPTKEPTKEPTKEPT", name).read_bytes() == b"kept"
    assert not store.source_dir(FS_ID).exists()
    store.move_source(FS_ID, "OTHEROTHEROTHERO")  # gone already
    assert not store.source_dir("OTHEROTHEROTHERO").exists()
    with pytest.raises(StorageError):
        store.move_source("KEPTKEPTKEPTKEPT", "../elsewhere")
