"""The logo is redrawn from its pixels: nothing but the picture survives an upload."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, PngImagePlugin

from seethesigns.logos import (
    MAX_LOGO_BYTES,
    MAX_LOGO_SIDE,
    LogoError,
    read_limited,
    reencode_png,
)

MARKER = b"Jane Doe, 14 Acacia Road"


def png(size: tuple[int, int] = (12, 8), *, text: bytes | None = None, mode: str = "RGB") -> bytes:
    """A real PNG drawn by Pillow, optionally with a tEXt chunk."""
    image = Image.new(mode, size, "red" if mode != "1" else 1)
    image.putpixel((0, 0), (0, 0, 255) if mode == "RGB" else 0)
    info = PngImagePlugin.PngInfo()
    if text is not None:
        info.add_text("Author", text.decode())
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk with its CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def test_pixels_survive_and_metadata_does_not() -> None:
    crafted = png(text=MARKER) + b"<script>alert(1)</script>" + MARKER
    assert MARKER in crafted
    stored = reencode_png(crafted)
    assert stored != crafted
    assert MARKER not in stored
    assert b"<script>" not in stored
    with Image.open(io.BytesIO(stored)) as again:
        assert again.format == "PNG"
        assert again.size == (12, 8)
        assert again.info.get("Author") is None
        assert again.convert("RGB").getpixel((0, 0)) == (0, 0, 255)
        assert again.convert("RGB").getpixel((1, 0)) == (255, 0, 0)


def test_an_icc_profile_is_dropped() -> None:
    original = png()
    iend = original.rindex(b"IEND") - 4
    profile = chunk(b"iCCP", b"evil\x00\x00" + zlib.compress(MARKER * 20))
    # iCCP belongs before IDAT; Pillow reads it from there.
    idat = original.index(b"IDAT") - 4
    crafted = original[:idat] + profile + original[idat:iend] + original[iend:]
    assert MARKER not in reencode_png(crafted)
    assert b"iCCP" not in reencode_png(crafted)


@pytest.mark.parametrize(
    "data",
    [
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        b"\xff\xd8\xff\xe0 a jpeg",
        b"",
    ],
)
def test_anything_but_a_png_is_refused(data: bytes) -> None:
    with pytest.raises(LogoError, match="must be a PNG"):
        reencode_png(data)


def test_a_broken_png_is_refused() -> None:
    whole = png()
    with pytest.raises(LogoError, match="could not be read"):
        reencode_png(whole[: len(whole) // 2])
    with pytest.raises(LogoError, match="could not be read"):
        reencode_png(whole[:8] + b"\x00" * 40)


def test_a_huge_canvas_is_refused_before_decoding() -> None:
    # 1-bit, all white: tiny on disk, millions of pixels once decoded.
    bomb = png((MAX_LOGO_SIDE + 1, 16), mode="1")
    assert len(bomb) < MAX_LOGO_BYTES
    with pytest.raises(LogoError, match=f"at most {MAX_LOGO_SIDE}"):
        reencode_png(bomb)
    assert reencode_png(png((MAX_LOGO_SIDE, 16), mode="1"))


def test_read_limited_refuses_an_oversized_upload() -> None:
    assert read_limited(io.BytesIO(b"x" * MAX_LOGO_BYTES)) == b"x" * MAX_LOGO_BYTES
    with pytest.raises(LogoError, match="larger than 256 KiB"):
        read_limited(io.BytesIO(b"x" * (MAX_LOGO_BYTES + 1)))
