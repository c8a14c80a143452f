"""The organisation's logo: a PNG, checked and redrawn by the server before anyone sees it.

An uploaded file could carry more than a picture: text chunks with a name in them, an ICC
profile, bytes appended after the image end, or a polyglot that some other parser reads as a
script. Only the decoded pixels are kept; they are written into a new PNG with no metadata.
"""

from __future__ import annotations

import io
import warnings
from typing import IO

from PIL import Image

MAX_LOGO_BYTES = 256 * 1024
# Checked from the header before decoding: a small file can inflate to gigabytes of pixels.
MAX_LOGO_SIDE = 2048
# Redrawn pixels can compress worse than the original; this bounds what every page load reads.
MAX_STORED_BYTES = 2 * MAX_LOGO_BYTES
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class LogoError(Exception):
    """The uploaded logo is not a PNG the server accepts; the message says why."""


def read_limited(stream: IO[bytes]) -> bytes:
    """Read an uploaded logo, refusing one larger than MAX_LOGO_BYTES."""
    data = stream.read(MAX_LOGO_BYTES + 1)
    if len(data) > MAX_LOGO_BYTES:
        raise LogoError(f"the logo is larger than {MAX_LOGO_BYTES // 1024} KiB")
    return data


def reencode_png(data: bytes) -> bytes:
    """Decode a PNG and return a fresh PNG of its pixels (RGBA), with nothing else kept."""
    if not data.startswith(PNG_SIGNATURE):
        raise LogoError("the logo must be a PNG image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
                width, height = image.size
                if width > MAX_LOGO_SIDE or height > MAX_LOGO_SIDE:
                    raise LogoError(
                        f"the logo can be at most {MAX_LOGO_SIDE} x {MAX_LOGO_SIDE} pixels"
                    )
                pixels = image.convert("RGBA").tobytes()
    except LogoError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as exc:
        raise LogoError("the logo could not be read as a PNG image") from exc
    # A new image from raw pixels carries no info dict: no text, ICC profile or EXIF.
    clean = Image.frombytes("RGBA", (width, height), pixels)
    out = io.BytesIO()
    clean.save(out, format="PNG", optimize=True)
    if out.tell() > MAX_STORED_BYTES:
        raise LogoError("the logo has too much detail; try a smaller or simpler image")
    return out.getvalue()
