"""The gunicorn pieces: a log that names no client, responses that name no software."""

from __future__ import annotations

import pytest

from seethesigns.server import REDACTED, without_client_details


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        (
            "Invalid request from ip=127.0.0.77: Invalid HTTP Header: 'Bad Header Line'",
            "Invalid request refused: Invalid HTTP Header",
        ),
        (
            "Invalid request from ip=2001:db8::77: Invalid chunk size: b'zz'",
            "Invalid request refused: Invalid chunk size",
        ),
        (
            "Invalid request from ip=::1: Request Line is too large (8190 > 4094)",
            "Invalid request refused: Request Line is too large",
        ),
        (
            "Invalid request from ip=10.1.2.3: Proxy request from '10.1.2.3' not allowed",
            "Invalid request refused: Proxy request from",
        ),
        ("Error handling request POST /sources/1b2c/reply", "Error handling request"),
    ],
)
def test_gunicorn_s_messages_about_a_client_keep_only_what_went_wrong(
    written: str, kept: str
) -> None:
    assert without_client_details(written) == kept


@pytest.mark.parametrize(
    "address", ["127.0.0.77", "203.0.113.9", "::1", "2001:db8::77", "fe80::1%eth0"]
)
def test_any_other_address_is_redacted(address: str) -> None:
    assert without_client_details(f"peer {address} gone") == f"peer {REDACTED} gone"


@pytest.mark.parametrize(
    "message",
    [
        "Booting worker with pid: 4242",
        "Worker (pid:4242) was sent SIGKILL! Perhaps out of memory?",
        "WORKER TIMEOUT (pid:4242) at 12:30:45",
    ],
)
def test_other_messages_are_left_alone(message: str) -> None:
    assert without_client_details(message) == message
