"""Which deflate level a document gets, decided from its first bytes (issue 16).

Photos, videos and archives are compressed already: deflating them spent most of an upload's
time and saved nothing. They go into gzip's stored blocks (level 0), which keeps the gzip
container, so the name in its header and the workstation's reading of it do not change.
"""

from __future__ import annotations

import zlib

STORED = 0
# Measured in issue 16 on English-like words and on this repository's prose and code: level 4
# is 5-6 % larger than level 6 (what every document got before) at 2-3 times the speed;
# level 3 was 13 % larger on prose and code, past the 10 % the issue allows.
FAST = 4
# A quick deflate of the first bytes shows whether the rest is worth deflating.
TRIAL_BYTES = 64 * 1024
TRIAL_LEVEL = 1
# Deflate only if the trial saves at least this share of the bytes.
MIN_SAVING = 0.05
# Formats whose content is always entropy-coded, whatever their first bytes look like (a
# JPEG's EXIF block, an MP4's index compress well). Zip is left out: it may hold files
# stored uncompressed, and the trial sees that.
_COMPRESSED_PREFIXES = (
    b"\xff\xd8\xff",  # JPEG
    b"\x89PNG\r\n\x1a\n",
    b"GIF87a",
    b"GIF89a",
    b"\x1a\x45\xdf\xa3",  # Matroska, WebM
    b"OggS",
    b"fLaC",
    b"ID3",  # MP3
    b"\x1f\x8b",  # gzip
    b"BZh",
    b"\xfd7zXZ\x00",
    b"\x28\xb5\x2f\xfd",  # zstd
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!\x1a\x07",
)


def compressed_format(head: bytes) -> bool:
    """Whether head starts a file format whose content is compressed already."""
    if head.startswith(_COMPRESSED_PREFIXES):
        return True
    if head[4:8] == b"ftyp":  # MP4, MOV, HEIC, AVIF, M4A, 3GP
        return True
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


def choose_level(head: bytes) -> int:
    """The deflate level for a document whose first bytes are head."""
    if compressed_format(head):
        return STORED
    trial = head[:TRIAL_BYTES]
    if not trial:
        return FAST
    compressor = zlib.compressobj(TRIAL_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    size = len(compressor.compress(trial)) + len(compressor.flush())
    return FAST if size <= (1 - MIN_SAVING) * len(trial) else STORED
