"""GnuPG behind GpgService, with real keys: what the server accepts, encrypts and decrypts."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import gnupg
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from seethesigns.codenames import CodenameDeriver, generate_codename
from seethesigns.encryption import (
    DecryptionFailed,
    EncryptionError,
    GpgService,
    KeyFileRejected,
    SubmissionKeyUnavailable,
    inspect_public_key,
)
from seethesigns.models import Source
from seethesigns.settings import Settings
from seethesigns.sources import create_source
from tests.conftest import OfflineKey, short_tmpdir
from tests.seethesigns.conftest import BadKeys, gpg_cli


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A short scratch directory for throwaway keyrings."""
    home = short_tmpdir("stsc")
    yield home
    shutil.rmtree(home, ignore_errors=True)


def agents_under(path: Path) -> list[str]:
    """Command lines of running gpg-agents whose home is inside path."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            continue
        if "gpg-agent" in cmdline and f"{path}/" in cmdline and state != "Z":
            found.append(cmdline)
    return found


def public_keys_in(homedir: Path) -> list[str]:
    return [key["fingerprint"] for key in gnupg.GPG(gnupghome=str(homedir)).list_keys()]


def test_import_of_the_public_key_returns_its_fingerprint(
    offline_key: OfflineKey, scratch: Path
) -> None:
    (scratch / "gnupg").mkdir(mode=0o700)
    service = GpgService(scratch / "gnupg", "", scratch / "tmp")
    assert service.import_submission_key(offline_key.public_key) == offline_key.fingerprint
    assert public_keys_in(scratch / "gnupg") == [offline_key.fingerprint]
    assert list((scratch / "tmp").iterdir()) == []


def test_a_secret_key_file_is_refused(offline_key: OfflineKey, scratch: Path) -> None:
    secret = gnupg.GPG(gnupghome=str(offline_key.homedir)).export_keys(
        offline_key.fingerprint, secret=True, passphrase=""
    )
    assert "PRIVATE KEY BLOCK" in secret
    with pytest.raises(KeyFileRejected, match="SECRET key"):
        inspect_public_key(secret, scratch)


def test_a_secret_key_under_a_public_armor_label_is_refused(
    offline_key: OfflineKey, scratch: Path
) -> None:
    secret = gnupg.GPG(gnupghome=str(offline_key.homedir)).export_keys(
        offline_key.fingerprint, secret=True, passphrase=""
    )
    disguised = secret.replace("PRIVATE KEY BLOCK", "PUBLIC KEY BLOCK")
    with pytest.raises(KeyFileRejected, match="SECRET key"):
        inspect_public_key(disguised, scratch)


@pytest.mark.parametrize(
    ("which", "reason"),
    [("expired", "expired"), ("revoked", "revoked"), ("sign_only", "cannot encrypt")],
)
def test_unusable_keys_are_refused(
    bad_keys: BadKeys, scratch: Path, which: str, reason: str
) -> None:
    (scratch / "gnupg").mkdir(mode=0o700)
    service = GpgService(scratch / "gnupg", "", scratch / "tmp")
    with pytest.raises(KeyFileRejected, match=reason):
        service.import_submission_key(getattr(bad_keys, which))
    assert public_keys_in(scratch / "gnupg") == []


def test_two_keys_in_one_file_are_refused(
    offline_key: OfflineKey, bad_keys: BadKeys, scratch: Path
) -> None:
    assert inspect_public_key(bad_keys.other_valid, scratch)
    with pytest.raises(KeyFileRejected, match="exactly one public key, found 2"):
        inspect_public_key(offline_key.public_key + bad_keys.other_valid, scratch)


@pytest.mark.parametrize(
    "armored", ["", "not a key at all", "-----BEGIN PGP PUBLIC KEY BLOCK-----"]
)
def test_garbage_is_refused(scratch: Path, armored: str) -> None:
    with pytest.raises(KeyFileRejected, match="found 0"):
        inspect_public_key(armored, scratch)


def test_check_submission_key_passes_then_fails_once_the_key_is_gone(
    settings: Settings, gpg: GpgService
) -> None:
    gpg.check_submission_key([settings.submission_key_fingerprint])
    gpg_cli(settings.gnupg_homedir, "--delete-keys", settings.submission_key_fingerprint)
    with pytest.raises(SubmissionKeyUnavailable, match="not in the server keyring"):
        gpg.check_submission_key([settings.submission_key_fingerprint])
    with pytest.raises(SubmissionKeyUnavailable):
        gpg.submission_public_key()


def test_check_submission_key_when_the_keyring_is_missing(
    settings: Settings, gpg: GpgService
) -> None:
    subprocess.run(
        ["gpgconf", "--homedir", str(settings.gnupg_homedir), "--kill", "all"], check=False
    )
    # Moved rather than removed: the stopping agent may still be deleting its sockets.
    settings.gnupg_homedir.rename(settings.data_dir / "gone")
    with pytest.raises(SubmissionKeyUnavailable, match="keyring is missing"):
        gpg.check_submission_key([settings.submission_key_fingerprint])


def test_check_submission_key_refuses_a_key_that_has_expired(
    settings: Settings, bad_keys: BadKeys
) -> None:
    # A key that was fine at import and expired since: imported here past the checks.
    gpg_cli(settings.gnupg_homedir, "--import", stdin=bad_keys.expired.encode())
    expired = next(
        key["fingerprint"]
        for key in gnupg.GPG(gnupghome=str(settings.gnupg_homedir)).list_keys()
        if "old@x.invalid" in key["uids"][0]
    )
    service = GpgService(settings.gnupg_homedir, expired, settings.tmp_dir)
    with pytest.raises(SubmissionKeyUnavailable, match="expired"):
        service.check_submission_key([expired])


def test_encrypt_to_submission_key(
    gpg: GpgService, offline_key: OfflineKey, settings: Settings
) -> None:
    output = settings.tmp_dir / "out.gpg"
    gpg.encrypt_to_submission_key(b"a message", output, [gpg.submission_fingerprint])
    assert b"a message" not in output.read_bytes()
    assert offline_key.decrypt(output.read_bytes()) == b"a message"
    streamed = settings.tmp_dir / "streamed.gpg"
    data = os.urandom(3 * 1024 * 1024)
    with (settings.tmp_dir / "plain").open("wb+") as handle:
        handle.write(data)
        handle.seek(0)
        gpg.encrypt_to_submission_key(handle, streamed, [gpg.submission_fingerprint])
    assert offline_key.decrypt(streamed.read_bytes()) == data


def test_source_keypair_and_reply_round_trip(
    gpg: GpgService, offline_key: OfflineKey, settings: Settings
) -> None:
    keys = gpg.generate_source_keypair("the derived key secret")
    assert "PUBLIC KEY BLOCK" in keys.public_key
    assert "PRIVATE KEY BLOCK" in keys.secret_key
    assert len(keys.fingerprint) == 40
    first, second = settings.tmp_dir / "r1.gpg", settings.tmp_dir / "r2.gpg"
    gpg.encrypt_reply(
        "Thank you for telling us. 💬", keys.public_key, first, [gpg.submission_fingerprint]
    )
    gpg.encrypt_reply("We can help.", keys.public_key, second, [gpg.submission_fingerprint])
    assert b"Thank you" not in first.read_bytes()
    texts = gpg.decrypt_replies(
        [first.read_bytes(), second.read_bytes()], keys.secret_key, "the derived key secret"
    )
    assert texts == ["Thank you for telling us. 💬", "We can help."]
    # Staff read replies on the offline workstation too.
    assert offline_key.decrypt(first.read_bytes()).decode() == "Thank you for telling us. 💬"
    assert gpg.decrypt_replies([], keys.secret_key, "anything") == []


def test_wrong_passphrase_is_decryption_failed(gpg: GpgService, settings: Settings) -> None:
    keys = gpg.generate_source_keypair("right")
    reply = settings.tmp_dir / "r.gpg"
    gpg.encrypt_reply("hello", keys.public_key, reply, [gpg.submission_fingerprint])
    for wrong in ("wrong", ""):
        with pytest.raises(DecryptionFailed):
            gpg.decrypt_replies([reply.read_bytes()], keys.secret_key, wrong)


def test_reply_to_another_source_does_not_decrypt(gpg: GpgService, settings: Settings) -> None:
    mine = gpg.generate_source_keypair("mine")
    theirs = gpg.generate_source_keypair("theirs")
    reply = settings.tmp_dir / "r.gpg"
    gpg.encrypt_reply("for them only", theirs.public_key, reply, [gpg.submission_fingerprint])
    with pytest.raises(DecryptionFailed):
        gpg.decrypt_replies([reply.read_bytes()], mine.secret_key, "mine")


def test_scratch_keyrings_are_removed_and_their_agents_stopped(
    gpg: GpgService, settings: Settings, offline_key: OfflineKey
) -> None:
    keys = gpg.generate_source_keypair("secret")
    reply = settings.tmp_dir / "reply.gpg"
    gpg.encrypt_reply("hello", keys.public_key, reply, [gpg.submission_fingerprint])
    assert gpg.decrypt_replies([reply.read_bytes()], keys.secret_key, "secret") == ["hello"]
    gpg.import_submission_key(offline_key.public_key)
    reply.unlink()
    assert list(settings.tmp_dir.iterdir()) == []
    assert agents_under(settings.tmp_dir) == []


def test_a_scratch_parent_too_long_for_agent_sockets_is_refused(settings: Settings) -> None:
    deep = settings.tmp_dir / ("x" * 80)
    service = GpgService(settings.gnupg_homedir, settings.submission_key_fingerprint, deep)
    with pytest.raises(EncryptionError, match="too long"):
        service.generate_source_keypair("secret")


def test_source_keys_never_reach_the_server_keyring(
    settings: Settings, gpg: GpgService, db: Session, deriver: CodenameDeriver
) -> None:
    # SecureDrop #6389: one shared keyring of source keys slowed every operation down.
    for _ in range(20):
        create_source(db, deriver, gpg, generate_codename())
    assert db.scalar(select(func.count()).select_from(Source)) == 20
    assert public_keys_in(settings.gnupg_homedir) == [settings.submission_key_fingerprint]
    assert gnupg.GPG(gnupghome=str(settings.gnupg_homedir)).list_keys(secret=True) == []
    assert list(settings.tmp_dir.iterdir()) == []


def test_one_bad_reply_does_not_hide_the_others(gpg: GpgService, settings: Settings) -> None:
    mine = gpg.generate_source_keypair("mine")
    theirs = gpg.generate_source_keypair("theirs")
    good, bad = settings.tmp_dir / "good.gpg", settings.tmp_dir / "bad.gpg"
    gpg.encrypt_reply("for me", mine.public_key, good, [gpg.submission_fingerprint])
    gpg.encrypt_reply("for them only", theirs.public_key, bad, [gpg.submission_fingerprint])
    texts = gpg.decrypt_replies(
        [bad.read_bytes(), good.read_bytes(), b"not openpgp at all"], mine.secret_key, "mine"
    )
    assert texts == [None, "for me", None]
