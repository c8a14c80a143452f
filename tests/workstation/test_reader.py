"""`open` against good and hostile exports, each built from real zip, gzip and OpenPGP data.

Every hostile item sits in an export beside good ones: the test checks that it is reported
by name, that nothing lands outside the output folder, and that the good items still open.
"""

from __future__ import annotations

import gzip
import io
import os
import stat
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

import pytest

from tests.conftest import OfflineKey
from tests.workstation.conftest import (
    PASSPHRASE,
    ServerSide,
    WorkstationKey,
    open_export,
    stop_agent,
    write_zip,
)

GOOD_MESSAGE = "They make my brother carry packages to Margate."
GOOD_NAME = "good_otter/1-good_otter-msg.gpg"


def good_entries(server: ServerSide) -> dict[str, bytes]:
    """One message and one document that must open whatever else is in the export."""
    return {
        GOOD_NAME: server.message(GOOD_MESSAGE),
        "good_otter/2-good_otter-doc.gz.gpg": server.document(b"%PDF-1.4 fine", "fine.pdf"),
    }


def assert_good_items_opened(out: Path) -> None:
    """The good items are there, byte for byte, whatever went wrong with the others."""
    assert (out / "good_otter/1-message.txt").read_text() == GOOD_MESSAGE
    assert (out / "good_otter/documents/fine.pdf").read_bytes() == b"%PDF-1.4 fine"


def all_files(folder: Path) -> set[str]:
    """Every path under folder, relative, links included (and not followed)."""
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


def reported(capsys: pytest.CaptureFixture[str], name: str) -> str:
    """The summary line naming an entry that was not opened."""
    output = capsys.readouterr().out
    assert "NOT OPENED" in output, output
    lines = [line for line in output.splitlines() if line.strip().startswith(name + ":")]
    assert len(lines) == 1, output
    return lines[0]


def test_a_clean_export_opens_completely(
    workstation_key: WorkstationKey,
    server_side: ServerSide,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    entries = good_entries(server_side)
    entries["good_otter/3-good_otter-reply.gpg"] = server_side.message("We are here to help.")
    export = write_zip(workdir / "export.zip", entries)

    assert open_export(workstation_key, export, workdir / "out") == 0

    out = workdir / "out"
    assert_good_items_opened(out)
    assert (out / "good_otter/3-reply.txt").read_text() == "We are here to help."
    assert not (out / ".work").exists()
    output = capsys.readouterr().out
    assert "Opened 3 of 3 entries." in output
    assert "NOT OPENED" not in output


def test_wrong_passphrase_opens_nothing(
    workstation_key: WorkstationKey,
    server_side: ServerSide,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    export = write_zip(workdir / "export.zip", good_entries(server_side))
    code = open_export(workstation_key, export, workdir / "out", passphrase="not the passphrase")
    assert code == 1
    assert "does not unlock the secret key" in capsys.readouterr().err
    assert not (workdir / "out").exists()


def test_a_gzip_bomb_is_refused_by_name(
    workstation_key: WorkstationKey,
    server_side: ServerSide,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 16 MiB of zeros gzips to about 16 KiB: under the 32 MiB size limit of the test
    # settings, but a ratio of ~1000, far over their limit of 50.
    zeros = io.BytesIO()
    with gzip.GzipFile("bomb.bin", "wb", fileobj=zeros, mtime=0) as handle:
        for _ in range(16):
            handle.write(bytes(1024 * 1024))
    name = "bomb_otter/3-bomb_otter-doc.gz.gpg"
    entries = {**good_entries(server_side), name: server_side.encrypt(zeros.getvalue())}
    export = write_zip(workdir / "export.zip", entries)

    assert open_export(workstation_key, export, workdir / "out") == 1

    line = reported(capsys, name)
    assert "decompression bomb" in line and "gzip" in line
    assert_good_items_opened(workdir / "out")
    assert not list((workdir / "out").rglob("bomb.bin"))
    assert not (workdir / "out/.work").exists()


def test_an_item_over_the_size_limit_is_refused_whatever_its_ratio(
    workstation_key: WorkstationKey,
    server_side: ServerSide,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Random bytes do not compress: only max_item_bytes (32 MiB in the test settings) stops it.
    name = "big_otter/1-big_otter-doc.gz.gpg"
    big = server_side.document(os.urandom(33 * 1024 * 1024), "big.bin")
    export = write_zip(workdir / "export.zip", {**good_entries(server_side), name: big})

    assert open_export(workstation_key, export, workdir / "out") == 1

    assert "expands past 33,554,432 bytes" in reported(capsys, name)
    assert not list((workdir / "out").rglob("big.bin"))
    assert_good_items_opened(workdir / "out")


def test_an_openpgp_compression_bomb_is_refused_by_name(
    workstation_key: WorkstationKey,
    server_side: ServerSide,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A message is encrypted with gpg's own compression on: zeros shrink a thousandfold.
    name = "bomb_otter/4-bomb_otter-msg.gpg"
    bomb = server_side.message("\0" * (48 * 1024 * 1024))
    assert len(bomb) < 1024 * 1024
    export = write_zip(workdir / "export.zip", {**good_entries(server_side), name: bomb})

    assert open_export(workstation_key, export, workdir / "out") == 1

    assert "OpenPGP data expands past" in reported(capsys, name)
    assert not (workdir / "out/bomb_otter/4-message.txt").exists()
    assert_good_items_opened(workdir / "out")


def test_a_zip_entry_bomb_is_refused_by_name(
    workstation_key: WorkstationKey,
    server_side: ServerSide,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    export = write_zip(workdir / "export.zip", good_entries(server_side))
    name = "bomb_otter/5-bomb_otter-msg.gpg"
    with zipfile.ZipFile(export, "a") as archive:
        archive.writestr(name, bytes(40 * 1024 * 1024), compress_type=zipfile.ZIP_DEFLATED)

    assert open_export(workstation_key, export, workdir / "out") == 1

    assert "its zip entry expands past" in reported(capsys, name)
    assert_good_items_opened(workdir / "out")


def traversal_gzip(fname: bytes, content: bytes) -> bytes:
    """A gzip member whose FNAME header field is exactly fname (no sanitising)."""
    body = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    deflated = body.compress(content) + body.flush()
    header = b"\x1f\x8b\x08\x08" + struct.pack("<I", 0) + b"\x00\xff" + fname + b"\x00"
    return header + deflated + struct.pack("<II", zlib.crc32(content), len(content))


@pytest.mark.parametrize(
    ("fname", "expected"),
    [
        (b"../../../../tmp/escaped.sh", "escaped.sh"),
        (b"/etc/cron.d/evil", "evil"),
        (b"..\\..\\windows\\evil.bat", "evil.bat"),
        (b"..", "document"),
        (b"invoice\xe2\x80\xaegpj.exe", "invoicegpj.exe"),
        (b"\x1b[2Jclear\x9b.txt", "[2Jclear\ufffd.txt"),
        (b"\xff\xfe not utf-8.txt", "\ufffd\ufffd not utf-8.txt"),
    ],
)
def test_traversal_names_in_the_gzip_header_stay_inside(
    workstation_key: WorkstationKey,
    server_side: ServerSide,
    workdir: Path,
    fname: bytes,
    expected: str,
) -> None:
    name = "sly_otter/1-sly_otter-doc.gz.gpg"
    item = server_side.encrypt(traversal_gzip(fname, b"payload"))
    export = write_zip(workdir / "export.zip", {**good_entries(server_side), name: item})

    assert open_export(workstation_key, export, workdir / "out") == 0

    documents = workdir / "out/sly_otter/documents"
    assert [path.name for path in documents.iterdir()] == [expected]
    assert (documents / expected).read_bytes() == b"payload"
    assert not Path("/tmp/escaped.sh").exists()
    assert_good_items_opened(workdir / "out")


@pytest.mark.parametrize(
    "entry",
    [
        "../../escaped.gpg",
        "/tmp/absolute-1-x-msg.gpg",
        "good_otter/../../1-good_otter-msg.gpg",
        "sly_otter/1-other_otter-msg.gpg",
        "sly_otter/nested/1-sly_otter-msg.gpg",
        "Sly_Otter/1-Sly_Otter-msg.gpg",
    ],
)
def test_traversal_and_stray_names_in_the_zip_are_skipped(
    workstation_key: WorkstationKey,
    server_side: ServerSide,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    entry: str,
) -> None:
    export = write_zip(workdir / "export.zip", good_entries(server_side))
    with zipfile.ZipFile(export, "a") as archive:
        # ZipInfo keeps the name as given (writestr would not strip "../" either).
        archive.writestr(zipfile.ZipInfo(entry), server_side.message("escaped"))

    assert open_export(workstation_key, export, workdir / "out") == 1

    assert "not a See the Signs item name" in reported(capsys, entry)
    assert all_files(workdir / "out") == {
        "index.html",
        "good_otter",
        "good_otter/index.html",
        "good_otter/1-message.txt",
        "good_otter/documents",
        "good_otter/documents/fine.pdf",
    }
    assert not (workdir / "escaped.gpg").exists()


def test_a_symlink_entry_is_never_followed(
    workstation_key: WorkstationKey,
    server_side: ServerSide,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    export = write_zip(workdir / "export.zip", good_entries(server_side))
    name = "sly_otter/1-sly_otter-msg.gpg"
    link = zipfile.ZipInfo(name)
    link.create_system = 3  # Unix, so the mode in the high bits counts
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(export, "a") as archive:
        archive.writestr(link, "/etc/passwd")

    assert open_export(workstation_key, export, workdir / "out") == 1

    assert "symbolic link" in reported(capsys, name)
    links = [path for path in (workdir / "out").rglob("*") if path.is_symlink()]
    assert links == []
    assert_good_items_opened(workdir / "out")


def test_an_item_encrypted_to_another_key_is_reported(
    workstation_key: WorkstationKey,
    server_side: ServerSide,
    offline_key: OfflineKey,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    other = ServerSide(offline_key.public_key, workdir / "other")
    try:
        foreign = other.message("for the other agency")
    finally:
        other.close()
    name = "far_otter/1-far_otter-msg.gpg"
    export = write_zip(workdir / "export.zip", {**good_entries(server_side), name: foreign})

    assert open_export(workstation_key, export, workdir / "out") == 1

    line = reported(capsys, name)
    assert "encrypted to another key" in line
    assert f"key ID {encryption_subkey_id(offline_key.homedir)}" in line
    assert not (workdir / "out/far_otter/1-message.txt").exists()
    assert_good_items_opened(workdir / "out")


def encryption_subkey_id(homedir: Path) -> str:
    """The key ID gpg names for a message encrypted to the key in homedir."""
    listed = subprocess.run(
        ["gpg", "--homedir", str(homedir), "--with-colons", "--list-keys"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return next(line.split(":")[4] for line in listed.splitlines() if line.startswith("sub:"))


def test_random_bytes_are_not_openpgp(
    workstation_key: WorkstationKey,
    server_side: ServerSide,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    name = "odd_otter/1-odd_otter-doc.gz.gpg"
    entries = {**good_entries(server_side), name: os.urandom(4096)}
    export = write_zip(workdir / "export.zip", entries)

    assert open_export(workstation_key, export, workdir / "out") == 1

    assert "not an OpenPGP message" in reported(capsys, name)
    assert_good_items_opened(workdir / "out")


def test_a_truncated_ciphertext_is_reported_and_leaves_no_partial_file(
    workstation_key: WorkstationKey,
    server_side: ServerSide,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    whole = server_side.document(os.urandom(256 * 1024), "cut.bin")
    name = "cut_otter/1-cut_otter-doc.gz.gpg"
    entries = {**good_entries(server_side), name: whole[: len(whole) // 2]}
    export = write_zip(workdir / "export.zip", entries)

    assert open_export(workstation_key, export, workdir / "out") == 1

    assert "truncated or damaged" in reported(capsys, name)
    assert not list((workdir / "out").rglob("cut.bin"))
    assert_good_items_opened(workdir / "out")


def test_a_truncated_gzip_inside_good_encryption_is_reported(
    workstation_key: WorkstationKey,
    server_side: ServerSide,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    whole = traversal_gzip(b"half.txt", os.urandom(64 * 1024))
    name = "cut_otter/1-cut_otter-doc.gz.gpg"
    item = server_side.encrypt(whole[: len(whole) - 100])
    export = write_zip(workdir / "export.zip", {**good_entries(server_side), name: item})

    assert open_export(workstation_key, export, workdir / "out") == 1

    assert "truncated" in reported(capsys, name)
    assert not list((workdir / "out").rglob("half.txt"))


def test_an_item_encrypted_with_a_passphrase_is_refused_even_the_keys_own(
    workstation_key: WorkstationKey,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # gpg would happily decrypt this with the passphrase it is given: it was not sent to us.
    made = subprocess.run(
        ["gpg", "--homedir", str(workdir), "--batch", "--pinentry-mode", "loopback",
         "--passphrase", PASSPHRASE, "--symmetric", "--output", "-"],
        input=b"forged symmetric message",
        capture_output=True,
        check=True,
    )  # fmt: skip
    stop_agent(workdir)
    name = "fake_otter/1-fake_otter-msg.gpg"
    export = write_zip(workdir / "export.zip", {name: made.stdout})

    assert open_export(workstation_key, export, workdir / "out") == 1

    assert "encrypted with a passphrase" in reported(capsys, name)
    assert not (workdir / "out/fake_otter/1-message.txt").exists()


def test_a_plain_unencrypted_openpgp_message_is_refused(
    workstation_key: WorkstationKey,
    server_side: ServerSide,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A literal-data packet: gpg --decrypt would print it without decrypting anything.
    literal = b"\xcb" + bytes([6 + 8]) + b"b\x00" + struct.pack(">I", 0) + b"forged!!"
    name = "fake_otter/1-fake_otter-msg.gpg"
    export = write_zip(workdir / "export.zip", {**good_entries(server_side), name: literal})

    assert open_export(workstation_key, export, workdir / "out") == 1

    assert "not encrypted to this workstation's key" in reported(capsys, name)
    assert not (workdir / "out/fake_otter/1-message.txt").exists()


def test_a_corrupt_zip_entry_is_reported_and_the_rest_open(
    workstation_key: WorkstationKey,
    server_side: ServerSide,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    name = "bad_otter/1-bad_otter-msg.gpg"
    ciphertext = server_side.message("this one is damaged in transit")
    export = write_zip(workdir / "export.zip", {name: ciphertext, **good_entries(server_side)})
    data = bytearray(export.read_bytes())
    start = data.index(ciphertext)
    data[start + 20] ^= 0xFF  # the CRC in the zip no longer matches
    export.write_bytes(bytes(data))

    assert open_export(workstation_key, export, workdir / "out") == 1

    assert "damaged in the zip" in reported(capsys, name)
    assert not (workdir / "out/bad_otter/1-message.txt").exists()
    assert_good_items_opened(workdir / "out")


def test_a_file_that_is_not_a_zip_is_refused_clearly(
    workstation_key: WorkstationKey, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = workdir / "export.zip"
    export.write_bytes(os.urandom(10_000))

    assert open_export(workstation_key, export, workdir / "out") == 1

    assert "is not a readable zip" in capsys.readouterr().err
    assert not (workdir / "out").exists()


def test_the_output_folder_must_be_new_or_empty(
    workstation_key: WorkstationKey,
    server_side: ServerSide,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    export = write_zip(workdir / "export.zip", good_entries(server_side))
    out = workdir / "out"
    out.mkdir()
    (out / "good_otter").symlink_to(workdir)

    assert open_export(workstation_key, export, out) == 1

    assert "is not empty" in capsys.readouterr().err
    assert not (workdir / "1-message.txt").exists()


def test_passphrase_is_checked_against_the_key_before_anything_opens(
    workstation_key: WorkstationKey, workdir: Path
) -> None:
    assert len(PASSPHRASE) >= 12
    export = write_zip(workdir / "export.zip", {})
    assert open_export(workstation_key, export, workdir / "out") == 0
    assert (workdir / "out/index.html").is_file()


def test_an_expired_key_still_opens_what_was_sent_to_it(
    workstation_key: WorkstationKey, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Made and used in 2020 (gpg's faked clock), expired since: reports sent to it before
    # it expired must stay readable.
    home = workdir / "old"
    home.mkdir(mode=0o700)
    (home / "gpg-agent.conf").write_text("s2k-count 65536\n")
    then = ["gpg", "--homedir", str(home), "--batch", "--faked-system-time", "20200101T000000"]
    secret = ["--pinentry-mode", "loopback", "--passphrase", PASSPHRASE]
    userid = "Old <old@seethesigns.invalid>"
    made = [*then, *secret, "--quick-gen-key", userid, "future-default", "default", "2020-06-01"]
    subprocess.run(made, check=True, capture_output=True)
    item = subprocess.run(
        [*then, "--trust-model", "always", "--encrypt", "-r", "old@seethesigns.invalid"],
        input=b"sent in 2020",
        capture_output=True,
        check=True,
    ).stdout
    stop_agent(home)
    export = write_zip(workdir / "export.zip", {"old_otter/1-old_otter-msg.gpg": item})
    expired = WorkstationKey(home, "", "", workstation_key.config)

    assert open_export(expired, export, workdir / "out") == 0, capsys.readouterr()

    assert (workdir / "out/old_otter/1-message.txt").read_bytes() == b"sent in 2020"
    stop_agent(home)
