"""Handing a message to the configured relay: SMTP, STARTTLS always, optionally through tor.

Every SMTP and SOCKS call is here. Any failure to connect, to start TLS, to check the relay's
certificate, to log in or to have the message accepted raises MailError, which the sender
turns into a later retry.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from email.message import EmailMessage

import socks

from seethesigns.settings import AlertSettings


class MailError(Exception):
    """The relay did not take the message (unreachable, refused, TLS or login failed)."""


class _SocksSMTP(smtplib.SMTP):
    """smtplib.SMTP whose connection goes through a SOCKS5 proxy (tor), names resolved there."""

    def __init__(self, proxy: tuple[str, int], **options: object) -> None:
        self._proxy = proxy
        super().__init__(**options)  # type: ignore[arg-type]

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        # rdns: tor resolves the relay's name, so no DNS query leaves this machine.
        sock: socket.socket = socks.create_connection(
            (host, port),
            timeout=timeout,
            proxy_type=socks.SOCKS5,
            proxy_addr=self._proxy[0],
            proxy_port=self._proxy[1],
            proxy_rdns=True,
        )
        return sock


class Mailer:
    """Sends messages to the [alerts] relay, one connection per message."""

    def __init__(self, settings: AlertSettings) -> None:
        self.settings = settings

    def _tls(self) -> ssl.SSLContext:
        # Never unverified: a relay an attacker can impersonate would learn who gets alerts
        # and when reports arrive. ca_file trusts a private relay's own certificate.
        cafile = str(self.settings.ca_file) if self.settings.ca_file else None
        return ssl.create_default_context(cafile=cafile)

    def _password(self) -> str | None:
        if self.settings.password_file is None:
            return None
        return self.settings.password_file.read_text(encoding="utf-8").strip()

    def _connect(self) -> smtplib.SMTP:
        """A connection to the relay; the host given here is also the name TLS checks."""
        settings = self.settings
        if settings.socks_proxy is not None:
            return _SocksSMTP(
                settings.socks_proxy,
                host=settings.host,
                port=settings.port,
                local_hostname=settings.helo_name,
                timeout=settings.timeout_seconds,
            )
        return smtplib.SMTP(
            settings.host,
            settings.port,
            local_hostname=settings.helo_name,
            timeout=settings.timeout_seconds,
        )

    def send(self, message: EmailMessage) -> None:
        """Deliver one message to the relay over STARTTLS, or raise MailError."""
        settings = self.settings
        try:
            with self._connect() as smtp:
                smtp.ehlo()
                # starttls raises SMTPNotSupportedError if the relay does not offer it: alerts
                # never go in the clear.
                smtp.starttls(context=self._tls())
                smtp.ehlo()
                password = self._password()
                if settings.username is not None and password is not None:
                    smtp.login(settings.username, password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException, socks.ProxyError, ssl.SSLError) as exc:
            raise MailError(f"{type(exc).__name__}: {exc}") from None
