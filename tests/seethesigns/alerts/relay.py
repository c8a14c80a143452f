"""A real SMTP relay for the alert tests: aiosmtpd with STARTTLS required and a login,
its certificate a throwaway self-signed one made here (the sender trusts it via ca_file)."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

USERNAME = "alerts"
PASSWORD = "relay-password-for-tests"


def self_signed(directory: Path, host: str = "localhost") -> tuple[Path, Path]:
    """A certificate for host (and 127.0.0.1), and its key: (cert.pem, key.pem)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(host), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "relay-cert.pem", directory / "relay-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Received:
    """One message the relay accepted."""

    sender: str
    recipients: list[str]
    data: bytes
    at: float  # time.monotonic() on arrival
    helo: str  # the name the sender gave in EHLO


@dataclass
class Inbox:
    """What the relay has accepted, in order; shared by the relay's handler and the test."""

    messages: list[Received] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if not session.ssl or not session.authenticated:  # never: the relay requires both
            return "530 TLS and login required"
        with self.arrived:
            self.messages.append(
                Received(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    envelope.content,
                    time.monotonic(),
                    session.host_name,
                )
            )
            self.arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float) -> list[Received]:
        """Block until at least count messages have arrived (or fail after timeout)."""
        with self.arrived:
            ok = self.arrived.wait_for(lambda: len(self.messages) >= count, timeout)
        assert ok, f"{len(self.messages)} of {count} messages arrived in {timeout} s"
        return list(self.messages)


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USERNAME.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok)


class Relay:
    """The relay on 127.0.0.1:port; stop() and start() again on the same port (relay down)."""

    def __init__(self, port: int, cert: Path, key: Path, inbox: Inbox) -> None:
        self.port = port
        self.inbox = inbox
        self._tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._tls.load_cert_chain(cert, key)
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(
            self.inbox,
            hostname="127.0.0.1",
            port=self.port,
            tls_context=self._tls,
            require_starttls=True,
            auth_required=True,
            authenticator=_authenticate,
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
