"""A TOTP secret as an authenticator app scans it: a QR code drawn as inline SVG markup.

Inline <svg> in the page needs no script and no image request; a data: URI image would be
refused by the Content-Security-Policy (img-src 'self').
"""

from __future__ import annotations

import pyotp
import segno
from markupsafe import Markup

ISSUER = "See the Signs"


def provisioning_uri(secret: str, username: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_svg(secret: str, username: str) -> Markup:
    """The QR code of the secret, as SVG markup safe to put in a template."""
    code = segno.make(provisioning_uri(secret, username), error="m")
    svg: str = code.svg_inline(
        scale=4, light="#fff", svgclass="qr", title="QR code of the two-factor secret"
    )
    return Markup(svg)  # noqa: S704 - segno's own markup, with no text from the request


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing it in by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
