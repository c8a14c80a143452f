"""Fixtures for the Journalist API: tokens got with real TOTP codes, and a client's encryption.

They build on the staff fixtures: journalist_client + alice -> alice_token -> api (a client
that sends alice's token), and reported (a source with a message and a document).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from typing import Any

import gnupg
import pyotp
import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from seethesigns.staff_accounts import NewStaff
from tests.conftest import short_tmpdir

API = "/api/v1"


def request_token(
    client: FlaskClient, account: NewStaff, *, at: float | None = None, **overrides: Any
) -> TestResponse:
    """POST /api/v1/token with the right details and the current code, unless overridden.

    A code is accepted once: a second token for one account in one test passes
    `at=time.time() + 30`, the next time step's code.
    """
    body = {
        "username": account.staff.username,
        "passphrase": account.passphrase,
        "one_time_code": pyotp.TOTP(account.totp_secret).at(time.time() if at is None else at),
    }
    body.update(overrides)
    return client.post(f"{API}/token", json=body)


def token_of(client: FlaskClient, account: NewStaff, *, at: float | None = None) -> str:
    """A fresh token for account."""
    response = request_token(client, account, at=at)
    assert response.status_code == 200, response.get_json()
    token: str = response.get_json()["token"]
    return token


def auth(token: str) -> dict[str, str]:
    """The Authorization header SecureDrop's clients send."""
    return {"Authorization": f"Token {token}"}


class ApiClient:
    """A test client that sends one token with every request."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client = client
        self.token = token

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        """GET an API path (relative to /api/v1)."""
        return self.client.get(API + path, headers=auth(self.token), **kwargs)

    def post(self, path: str, **kwargs: Any) -> TestResponse:
        """POST to an API path."""
        return self.client.post(API + path, headers=auth(self.token), **kwargs)

    def delete(self, path: str, **kwargs: Any) -> TestResponse:
        """DELETE an API path."""
        return self.client.delete(API + path, headers=auth(self.token), **kwargs)


@pytest.fixture
def alice_token(journalist_client: FlaskClient, alice: NewStaff) -> str:
    """A token for alice, with the next time step's code.

    So a test can also log alice in on the web (the `logged_in` fixture, which takes the
    current code) as long as it asks for `logged_in` first.
    """
    return token_of(journalist_client, alice, at=time.time() + 30)


@pytest.fixture
def api(journalist_client: FlaskClient, alice_token: str) -> ApiClient:
    """The staff app, called with alice's token."""
    return ApiClient(journalist_client, alice_token)


def client_encrypt(text: str, *public_keys: str) -> str:
    """Encrypt text as SecureDrop's client does: armored, to the given public keys."""
    home = short_tmpdir("stsc")
    try:
        gpg = gnupg.GPG(gnupghome=str(home))
        fingerprints = []
        for key in public_keys:
            imported = gpg.import_keys(key)
            assert imported.fingerprints, imported.stderr
            fingerprints.append(imported.fingerprints[0])
        result = gpg.encrypt(text.encode(), fingerprints, always_trust=True, armor=True)
        assert result.ok, result.status
        return str(result)
    finally:
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)
        shutil.rmtree(home, ignore_errors=True)
