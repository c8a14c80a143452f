"""Make a DEVELOPMENT submission keypair for `make run`, with no passphrase and no expiry.

A real instance never sees the private half of its submission key: it lives on an offline
machine. This script stands in for that machine on a developer's laptop, so it keeps the
private key in its own GnuPG home (.dev/offline-gnupg), outside the server's data directory,
and hands the server only the exported public key.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import gnupg

WARNING = """\
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
!! This submission key is for DEVELOPMENT ONLY. It has no passphrase, and its private half lives in
!!     {homedir}
!! outside the server's data directory. Never use it for an instance that real people use.
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
Fingerprint: {fingerprint}
Public key:  {export}
Decrypt a submission with: gpg --homedir {homedir} --decrypt FILE.gpg
"""


class KeyGenerationFailed(Exception):
    """GnuPG did not make or export the development key."""


def make_key(homedir: Path, export: Path) -> str:
    """Make the keypair in homedir and export its public key; return the fingerprint."""
    gpg = gnupg.GPG(gnupghome=str(homedir))
    params = gpg.gen_key_input(
        key_type="EDDSA",
        key_curve="ed25519",
        subkey_type="ECDH",
        subkey_curve="cv25519",
        subkey_usage="encrypt",
        name_real="See the Signs DEVELOPMENT submission key",
        name_email="dev-submission@localhost",
        no_protection=True,
        expire_date=0,
    )
    result = gpg.gen_key(params)
    fingerprint = result.fingerprint
    if not fingerprint:
        raise KeyGenerationFailed(f"gpg made no key: {result.status or result.stderr.strip()}")
    armored = gpg.export_keys(fingerprint)
    if "BEGIN PGP PUBLIC KEY BLOCK" not in armored:
        raise KeyGenerationFailed(f"gpg did not export the public key of {fingerprint}")
    export.parent.mkdir(parents=True, exist_ok=True)
    export.write_text(armored)
    return str(fingerprint)


def stop_agent(homedir: Path) -> None:
    """Stop the gpg-agent that key generation started, so no daemon outlives the script."""
    subprocess.run(
        ["gpgconf", "--homedir", str(homedir), "--kill", "gpg-agent"],
        check=False,
        capture_output=True,
    )


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, make the key, print the warning; exit non-zero on any failure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--homedir", type=Path, required=True, help="new GnuPG home for the key")
    parser.add_argument("--export", type=Path, required=True, help="where to write the public key")
    args = parser.parse_args(argv)
    homedir: Path = args.homedir.resolve()
    export: Path = args.export.resolve()

    if homedir.exists():
        print(f"error: {homedir} already exists; remove it to make a new key", file=sys.stderr)
        return 1
    homedir.mkdir(mode=0o700, parents=True)
    try:
        fingerprint = make_key(homedir, export)
    except (KeyGenerationFailed, OSError) as exc:
        print(f"error: could not make the development submission key: {exc}", file=sys.stderr)
        stop_agent(homedir)
        # A half-made home would make the next `make run` skip key generation.
        shutil.rmtree(homedir, ignore_errors=True)
        return 1
    stop_agent(homedir)
    print(WARNING.format(homedir=homedir, fingerprint=fingerprint, export=export))
    return 0


if __name__ == "__main__":
    sys.exit(main())
