"""The server's check of a share package: real GnuPG ciphertext, refused for every flaw."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest

from seethesigns.teams.share_package import PackageRefused, SharePackage, read_package
from tests.seethesigns.teams.conftest import (
    DESIGNATION,
    TEAM,
    Teams,
    manifest_for,
    package_bytes,
    zip_bytes,
)

MESSAGE = b"He said the flat above the chip shop is where they keep it."
DOCUMENT = b"\x1f\x8b\x08\x08\x00\x00\x00\x00\x00\xffnote.txt\x00" + b"\x03\x00" + bytes(8)
MAX = 1024 * 1024


def check(data: bytes, teams: Teams, **limits: int) -> SharePackage:
    """read_package for the gentle otter case and Police liaison."""
    return read_package(
        io.BytesIO(data),
        designation=DESIGNATION,
        team=TEAM,
        recipients=teams.recipients(),
        max_items=limits.get("max_items", 50),
        max_item_bytes=limits.get("max_item_bytes", MAX),
    )


def refused(data: bytes, teams: Teams, **limits: int) -> str:
    """The reason read_package gives for refusing data."""
    with pytest.raises(PackageRefused) as caught:
        check(data, teams, **limits)
    return str(caught.value)


def to_police(teams: Teams, data: bytes = MESSAGE) -> bytes:
    """data encrypted to both of Police liaison's keys."""
    return teams.encrypt(data, *teams.police)


def one_item(teams: Teams, ciphertext: bytes) -> bytes:
    """A package whose one message is ciphertext."""
    return package_bytes({"1-msg.gpg": ciphertext}, teams)


def test_a_good_package_is_accepted_and_its_items_stream_back(teams: Teams) -> None:
    message, document = to_police(teams), to_police(teams, DOCUMENT)
    data = package_bytes({"1-msg.gpg": message, "2-doc.gz.gpg": document}, teams)

    package = check(data, teams)

    assert [(item.file, item.kind, item.size) for item in package.items] == [
        ("1-msg.gpg", "message", len(message)),
        ("2-doc.gz.gpg", "document", len(document)),
    ]
    with package.open_item(package.items[1]) as stream:
        assert stream.read(-1) + stream.read(-1) == document
    assert teams.police[0].decrypt(message) == MESSAGE
    assert teams.police[1].decrypt(message) == MESSAGE


def test_another_teams_key_is_refused(teams: Teams) -> None:
    reason = refused(one_item(teams, teams.encrypt(MESSAGE, teams.front_door)), teams)
    assert "encrypted to a key that is not Police liaison's" in reason


def test_an_extra_recipient_is_refused(teams: Teams) -> None:
    ciphertext = teams.encrypt(MESSAGE, *teams.police, teams.front_door)
    assert "encrypted to a key that is not Police liaison's" in refused(
        one_item(teams, ciphertext), teams
    )


def test_a_missing_team_key_is_refused(teams: Teams) -> None:
    missing = teams.police[1].fingerprint
    grouped = " ".join(missing[i : i + 4] for i in range(0, 40, 4))
    reason = refused(one_item(teams, teams.encrypt(MESSAGE, teams.police[0])), teams)
    assert reason == f"1-msg.gpg is not encrypted to {grouped}"


def test_a_hidden_recipient_is_refused(teams: Teams) -> None:
    ciphertext = teams.encrypt(MESSAGE, *teams.police, extra=("--throw-keyids",))
    assert "hides who it is encrypted to" in refused(one_item(teams, ciphertext), teams)


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda good: b"Dear police, the address is 12 Mill Road", "not an OpenPGP packet"),
        (lambda good: good[:-20], "cut short"),
        # A literal packet (tag 11) holding plaintext, after the encrypted data.
        (lambda good: good + b"\xcb\x0cb\x00\x00\x00\x00\x00secret", "more data after"),
    ],
    ids=["junk", "truncated", "literal-appended"],
)
def test_damaged_ciphertext_is_refused(teams: Teams, damage: object, expected: str) -> None:
    ciphertext = damage(to_police(teams))  # type: ignore[operator]
    reason = refused(one_item(teams, ciphertext), teams)
    assert "1-msg.gpg is not a binary OpenPGP message" in reason and expected in reason


def test_armored_ciphertext_is_refused(teams: Teams) -> None:
    armored = teams.encrypt(MESSAGE, *teams.police, extra=("--armor",))
    assert armored.startswith(b"-----BEGIN PGP MESSAGE")
    assert "is it armored" in refused(one_item(teams, armored), teams)


def test_passphrase_only_encryption_is_refused(teams: Teams) -> None:
    reason = refused(one_item(teams, teams.symmetric(MESSAGE)), teams)
    assert "unexpected packet (tag 3)" in reason


def test_not_a_zip_is_refused(teams: Teams) -> None:
    assert refused(b"PK\x03\x04 not really", teams) == (
        "this is not a share package: it is not a zip file"
    )


@pytest.mark.parametrize(
    "name", ["../1-msg.gpg", "/1-msg.gpg", "gentle_otter/1-msg.gpg", "01-msg.gpg", "1-msg.gpg/"]
)
def test_a_badly_named_member_is_refused(teams: Teams, name: str) -> None:
    good = package_bytes({"1-msg.gpg": to_police(teams)}, teams)
    archive = zipfile.ZipFile(io.BytesIO(good))
    members = {info.filename: archive.read(info) for info in archive.infolist()}
    members[name] = b"x"
    assert "unexpected file" in refused(zip_bytes(members), teams)


def test_a_member_the_manifest_does_not_list_is_refused(teams: Teams) -> None:
    ciphertext = to_police(teams)
    manifest = json.dumps(manifest_for({"1-msg.gpg": ciphertext}, teams)).encode()
    data = zip_bytes({"manifest.json": manifest, "1-msg.gpg": ciphertext, "2-msg.gpg": ciphertext})
    assert "2-msg.gpg, which its manifest does not list" in refused(data, teams)


def test_a_listed_member_that_is_missing_is_refused(teams: Teams) -> None:
    ciphertext = to_police(teams)
    items = {"1-msg.gpg": ciphertext, "2-msg.gpg": ciphertext}
    data = zip_bytes(
        {"manifest.json": json.dumps(manifest_for(items, teams)).encode(), "1-msg.gpg": ciphertext}
    )
    assert "2-msg.gpg is listed in the manifest but missing" in refused(data, teams)


def test_no_manifest_is_refused(teams: Teams) -> None:
    data = zip_bytes({"1-msg.gpg": to_police(teams)})
    assert "it has no manifest.json" in refused(data, teams)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"designation": "brave_heron"}, "made for 'brave_heron', not this case (gentle_otter)"),
        ({"team": "Health"}, "made for 'Health', not Police liaison"),
        ({"version": 2}, "version 2 is not supported"),
        ({"format": "zip"}, "its manifest has another format"),
        ({"recipients": []}, "other keys than Police liaison's active keys"),
    ],
)
def test_a_manifest_for_something_else_is_refused(
    teams: Teams, changes: dict[str, object], expected: str
) -> None:
    data = package_bytes({"1-msg.gpg": to_police(teams)}, teams, **changes)
    assert expected in refused(data, teams)


def test_manifest_recipients_must_be_the_teams_own(teams: Teams) -> None:
    listed = sorted([*(key.fingerprint for key in teams.police), teams.front_door.fingerprint])
    data = package_bytes({"1-msg.gpg": to_police(teams)}, teams, recipients=listed)
    assert "other keys than Police liaison's active keys" in refused(data, teams)


def test_a_wrong_sha256_is_refused(teams: Teams) -> None:
    ciphertext = to_police(teams)
    manifest = manifest_for({"1-msg.gpg": ciphertext}, teams)
    manifest["items"][0]["sha256"] = hashlib.sha256(b"other").hexdigest()
    data = zip_bytes({"manifest.json": json.dumps(manifest).encode(), "1-msg.gpg": ciphertext})
    assert refused(data, teams) == "1-msg.gpg does not match its sha256 in the manifest"


def test_a_wrong_size_is_refused(teams: Teams) -> None:
    ciphertext = to_police(teams)
    manifest = manifest_for({"1-msg.gpg": ciphertext}, teams)
    manifest["items"][0]["size"] = len(ciphertext) - 1
    data = zip_bytes({"manifest.json": json.dumps(manifest).encode(), "1-msg.gpg": ciphertext})
    assert f"is {len(ciphertext)} bytes, not {len(ciphertext) - 1} as listed" in refused(
        data, teams
    )


def test_a_kind_that_does_not_match_the_name_is_refused(teams: Teams) -> None:
    ciphertext = to_police(teams)
    manifest = manifest_for({"1-msg.gpg": ciphertext}, teams)
    manifest["items"][0]["kind"] = "document"
    data = zip_bytes({"manifest.json": json.dumps(manifest).encode(), "1-msg.gpg": ciphertext})
    assert "listed as 'document', but its name says otherwise" in refused(data, teams)


def test_too_many_items_are_refused(teams: Teams) -> None:
    ciphertext = to_police(teams)
    data = package_bytes({"1-msg.gpg": ciphertext, "2-msg.gpg": ciphertext}, teams)
    assert check(data, teams, max_items=2).items
    assert refused(data, teams, max_items=1) == "the package holds more than 1 items"


def test_an_oversized_member_is_refused_before_it_is_read(teams: Teams) -> None:
    ciphertext = to_police(teams)
    data = package_bytes({"1-msg.gpg": ciphertext}, teams)
    limit = len(ciphertext) - 1
    assert refused(data, teams, max_item_bytes=limit) == (
        f"1-msg.gpg is larger than the {limit:,} bytes allowed"
    )


def test_a_compressed_member_is_refused(teams: Teams) -> None:
    ciphertext = to_police(teams)
    manifest = json.dumps(manifest_for({"1-msg.gpg": ciphertext}, teams)).encode()
    data = zip_bytes(
        {"manifest.json": manifest, "1-msg.gpg": ciphertext}, compression=zipfile.ZIP_DEFLATED
    )
    assert "is compressed; share packages store items as they are" in refused(data, teams)


def test_a_changed_byte_is_refused(teams: Teams) -> None:
    ciphertext = to_police(teams)
    data = bytearray(package_bytes({"1-msg.gpg": ciphertext}, teams))
    # The item's bytes are stored as they are: flip one inside the encrypted data packet.
    at = data.index(ciphertext) + len(ciphertext) - 5
    data[at] ^= 0xFF
    assert refused(bytes(data), teams).startswith("1-msg.gpg is damaged in the zip (Bad CRC-32")
