"""Hostile OpenPGP: other keys, random bytes, truncation, forgeries and bombs, with real gpg.

Each bad item is reported by name and leaves no partial plaintext; the good ones still open.
"""

from __future__ import annotations

import os
import struct
import subprocess
from pathlib import Path

import pytest

from tests.conftest import OfflineKey
from tests.workstation.conftest import (
    PASSPHRASE,
    ServerSide,
    WorkstationKey,
    assert_good_items_opened,
    good_entries,
    open_export,
    reported,
    stop_agent,
    write_zip,
)


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
    # Bit 7 clear on the first byte: no OpenPGP packet starts like that. Fully random bytes
    # sometimes parse as a packet header (e.g. a passphrase-encrypted session key).
    junk = bytes([0x17]) + os.urandom(4095)
    entries = {**good_entries(server_side), name: junk}
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
