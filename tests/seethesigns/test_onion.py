"""Onion keys and staff client keys on disk (publishing itself is tested over real Tor)."""

from __future__ import annotations

import base64
import os
import re
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from seethesigns.onion import (
    JOURNALIST,
    SOURCE,
    ClientKeyError,
    KeyFileError,
    OnionKeys,
    OnionService,
    ServiceKey,
    publication_record,
    publishes_clients,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_address_is_the_one_tor_derives() -> None:
    # tor 0.4.9.11 answered ADD_ONION with this ServiceID for this key.
    key = ServiceKey(bytes(range(32)))
    assert key.address == "aoqqpp7tzyil4hlq3umoos6atft6jvrqtosq2xy53sdgiesvgg4bqead"
    assert key.tor_key().startswith("ED25519-V3:")
    assert len(base64.b64decode(key.tor_key().split(":", 1)[1])) == 64


def test_the_key_never_shows_in_its_repr() -> None:
    key = ServiceKey(bytes(range(32)))
    assert repr(key) == f"ServiceKey({key.address}.onion)"
    assert bytes(range(32)).hex() not in repr(key) + str(key)


def test_service_keys_are_made_once_in_private_files(tmp_path: Path) -> None:
    keys = OnionKeys(tmp_path / "onion")
    first = keys.service_key(SOURCE)
    assert OnionKeys(tmp_path / "onion").service_key(SOURCE) == first
    assert keys.service_key(JOURNALIST).address != first.address
    assert mode(tmp_path / "onion") == 0o700
    assert {path.name: mode(path) for path in (tmp_path / "onion").iterdir()} == {
        "source.ed25519": 0o600,
        "journalist.ed25519": 0o600,
        ".lock": 0o600,
    }


def test_a_key_file_other_users_can_read_is_refused(tmp_path: Path) -> None:
    keys = OnionKeys(tmp_path / "onion")
    keys.service_key(SOURCE)
    (tmp_path / "onion" / "source.ed25519").chmod(0o640)
    with pytest.raises(KeyFileError, match="readable by other users; run: chmod 600"):
        keys.service_key(SOURCE)


def test_a_truncated_key_file_is_refused(tmp_path: Path) -> None:
    keys = OnionKeys(tmp_path / "onion")
    keys.service_key(SOURCE)
    (tmp_path / "onion" / "source.ed25519").write_bytes(b"short")
    with pytest.raises(KeyFileError, match="not a 32-byte ed25519 seed"):
        keys.service_key(SOURCE)


def test_a_new_device_gets_a_tor_browser_line_and_only_its_public_key_is_kept(
    tmp_path: Path,
) -> None:
    keys = OnionKeys(tmp_path / "onion")
    line = keys.add_client("laptop-1")
    address = keys.service_key(JOURNALIST).address
    found = re.fullmatch(rf"{address}:descriptor:x25519:([A-Z2-7]{{52}})", line)
    assert found
    private = X25519PrivateKey.from_private_bytes(base64.b32decode(found.group(1) + "===="))
    public = base64.b32encode(private.public_key().public_bytes_raw()).decode().rstrip("=")
    assert keys.clients() == {"laptop-1": public}
    assert found.group(1) not in keys.clients_path.read_text()
    assert mode(keys.clients_path) == 0o600


def test_device_names_are_checked(tmp_path: Path) -> None:
    keys = OnionKeys(tmp_path / "onion")
    keys.add_client("phone")
    with pytest.raises(ClientKeyError, match="already authorised; revoke it first"):
        keys.add_client("phone")
    with pytest.raises(ClientKeyError, match="is not a valid device name"):
        keys.add_client("../phone")
    with pytest.raises(ClientKeyError, match="no staff device named 'tablet'"):
        keys.revoke_client("tablet")


def test_revoking_removes_only_that_device(tmp_path: Path) -> None:
    keys = OnionKeys(tmp_path / "onion")
    keys.add_client("phone")
    keys.add_client("laptop")
    keys.revoke_client("phone")
    assert list(keys.clients()) == ["laptop"]


def test_a_device_re_added_under_its_name_with_a_new_key_needs_republishing(
    tmp_path: Path,
) -> None:
    keys = OnionKeys(tmp_path / "onion")
    keys.add_client("alice-laptop")
    keys.add_client("phone")
    staff = OnionService(JOURNALIST, "127.0.0.1:8081")
    record = publication_record("x", staff, keys.clients())  # what the publisher published
    assert publishes_clients(record, keys.clients())
    keys.revoke_client("alice-laptop")
    keys.add_client("alice-laptop")  # within one poll: the names are the same as before
    assert sorted(keys.clients()) == record["clients"]
    assert not publishes_clients(record, keys.clients())


def test_a_hand_edited_clients_file_must_hold_keys(tmp_path: Path) -> None:
    keys = OnionKeys(tmp_path / "onion")
    keys.add_client("phone")
    keys.clients_path.write_text('{"phone": "not a key"}')
    with pytest.raises(KeyFileError, match="does not map names to x25519 keys"):
        keys.clients()


def test_a_publication_counts_only_while_its_process_runs(tmp_path: Path) -> None:
    keys = OnionKeys(tmp_path / "onion")
    assert keys.publication() == {}
    record = {"address": "x", "uploaded_at": "now", "clients": None}
    keys.record_publication(SOURCE, record)
    assert keys.publication() == {SOURCE: {"pid": os.getpid(), **record}}
    path = keys.published_path(SOURCE)
    path.write_text(path.read_text().replace(f'"pid": {os.getpid()}', '"pid": 999999999'))
    assert keys.publication() == {}


def device_keypair() -> tuple[str, str]:
    """A keypair as a device makes its own: (base32 public key, base32 private key)."""
    private = X25519PrivateKey.generate()
    public = base64.b32encode(private.public_key().public_bytes_raw()).decode().rstrip("=")
    return public, base64.b32encode(private.private_bytes_raw()).decode().rstrip("=")


def test_a_device_that_made_its_own_keypair_is_authorised_by_its_public_key(
    tmp_path: Path,
) -> None:
    keys = OnionKeys(tmp_path / "onion")
    public, private = device_keypair()
    keys.add_client_key("laptop", public)
    other, _ = device_keypair()
    keys.add_client_key("phone", f"descriptor:x25519:{other}")  # tor's authorized_clients form
    assert keys.clients() == {"laptop": public, "phone": other}
    assert private not in keys.clients_path.read_text()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("A" * 51, "52 base32 characters"),
        ("A" * 53, "52 base32 characters"),
        ("a" * 52, "52 base32 characters"),  # tor writes upper case
        ("A" * 51 + "1", "52 base32 characters"),
        ("A" * 51 + "B", "not a canonical base32 encoding"),  # spare bits set
        ("A" * 52, "not a usable x25519 key"),  # zero: a low-order point
        ("AE" + "A" * 50, "not a usable x25519 key"),  # one: low order too
        ("descriptor:x25519:" + "A" * 51, "52 base32 characters"),
        ("x25519:" + "A" * 52, "52 base32 characters"),
    ],
)
def test_a_malformed_public_key_is_refused(tmp_path: Path, text: str, message: str) -> None:
    keys = OnionKeys(tmp_path / "onion")
    with pytest.raises(ClientKeyError, match=message):
        keys.add_client_key("laptop", text)
    assert keys.clients() == {}


def test_whitespace_around_a_public_key_is_refused(tmp_path: Path) -> None:
    public, _ = device_keypair()
    for text in (public + "\n", " " + public):
        with pytest.raises(ClientKeyError, match="52 base32 characters"):
            OnionKeys(tmp_path / "onion").add_client_key("laptop", text)


def test_a_private_auth_line_given_as_the_public_key_is_refused(tmp_path: Path) -> None:
    keys = OnionKeys(tmp_path / "onion")
    line = keys.add_client("first")
    with pytest.raises(ClientKeyError, match="holds its PRIVATE key"):
        keys.add_client_key("laptop", line)
    assert list(keys.clients()) == ["first"]


def test_a_name_or_key_already_authorised_is_refused(tmp_path: Path) -> None:
    keys = OnionKeys(tmp_path / "onion")
    public, _ = device_keypair()
    keys.add_client_key("laptop", public)
    with pytest.raises(ClientKeyError, match="that key is already authorised, as 'laptop'"):
        keys.add_client_key("laptop-2", public)
    with pytest.raises(ClientKeyError, match="'laptop' is already authorised"):
        keys.add_client_key("laptop", device_keypair()[0])
    with pytest.raises(ClientKeyError, match="is not a valid device name"):
        keys.add_client_key("laptop\n", device_keypair()[0])
    assert keys.clients() == {"laptop": public}
