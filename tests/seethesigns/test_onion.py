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
    ServiceKey,
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
