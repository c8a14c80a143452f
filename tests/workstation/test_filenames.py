"""Names from outside become plain names in one folder, and never collide or follow links."""

from __future__ import annotations

from pathlib import Path

import pytest

from seethesigns.uploads import sanitize_filename as server_sanitize
from workstation.filenames import create_unique, printable, sanitize_filename, sibling_name


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "C:\\Users\\x\\photo.jpg",
        "..hidden",
        "invoice\u202egpj.exe",
        "line\nbreak.txt",
        "e\u0301motion.txt",
        "😀" * 80,
        "",
        "plain.pdf",
    ],
)
def test_sanitising_again_changes_nothing_the_server_sanitised(name: str) -> None:
    # The server's name is what arrives in the gzip header; cleaning it again is a no-op.
    assert sanitize_filename(server_sanitize(name)) == server_sanitize(name)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"../../x", "x"),
        (b"/abs/path", "path"),
        (b".", "document"),
        (b"...", "document"),
        (b"a\x00b", "ab"),
        (b"\xc3\x28.txt", "\ufffd(.txt"),
        ("🙂".encode() * 60, "🙂" * 50),
    ],
)
def test_hostile_names(raw: bytes, expected: str) -> None:
    assert sanitize_filename(raw) == expected


def test_collisions_get_numbers_and_links_are_not_followed(tmp_path: Path) -> None:
    (tmp_path / "target").write_text("do not touch")
    (tmp_path / "photo.jpg").symlink_to(tmp_path / "target")
    path, handle = create_unique(tmp_path, "photo.jpg")
    with handle:
        handle.write(b"new")
    assert path.name == "photo (2).jpg"
    assert (tmp_path / "target").read_text() == "do not touch"
    second, handle = create_unique(tmp_path, "../photo.jpg")
    handle.close()
    assert second.name == "photo (3).jpg"
    noext, handle = create_unique(tmp_path, "README")
    handle.close()
    assert noext.name == "README"


def test_companion_names_and_terminal_escapes() -> None:
    assert sibling_name(Path("a/photo.jpg"), "cleaned") == "photo.cleaned.jpg"
    assert sibling_name(Path("a/README"), "cleaned") == "README.cleaned"
    assert printable("bad\x1b[2J\u202ename") == "bad\\u001b[2J\\u202ename"
