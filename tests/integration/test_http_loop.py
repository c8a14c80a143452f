"""The whole loop over real HTTP between real gunicorn processes.

A source submits a message and a 50 MB file; staff log in with a real TOTP code and download
both; the test decrypts them with the offline key and compares every byte; staff reply; the
source comes back with the codename and reads the reply.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import struct

import requests

from tests.conftest import OfflineKey, short_tmpdir
from tests.integration.conftest import (
    LiveInstance,
    csrf,
    fresh_staff,
    new_source,
    staff_login,
)

FIFTY_MB = 50 * 1024 * 1024


def gzip_name(blob: bytes) -> str:
    """The FNAME field of a gzip header."""
    assert blob[:3] == b"\x1f\x8b\x08" and blob[3] & 0x08
    end = blob.index(b"\x00", 10)
    return blob[10:end].decode("utf-8")


def test_report_download_reply_and_read_back(live: LiveInstance, offline_key: OfflineKey) -> None:
    upload_dir = short_tmpdir("stsup")
    upload = upload_dir / "evidence.bin"
    with upload.open("wb") as handle:
        for _ in range(50):
            handle.write(os.urandom(1024 * 1024))
    expected_digest = hashlib.sha256(upload.read_bytes()).hexdigest()

    # 1. A source submits a message and a 50 MB file.
    source = requests.Session()
    codename = new_source(live.source.url, source)
    page = source.get(live.source.url + "/lookup").text
    with upload.open("rb") as handle:
        response = source.post(
            live.source.url + "/submit",
            data={
                "csrf_token": csrf(page),
                "msg": "They make my brother carry packages.",
            },
            files={"fh": ("evidence.bin", handle, "application/octet-stream")},
            allow_redirects=False,
        )
    assert response.status_code == 302, response.text
    assert (
        "Thank you"
        in source.get(
            response.headers["Location"]
            if response.headers["Location"].startswith("http")
            else live.source.url + response.headers["Location"]
        ).text
    )

    # 2. Staff log in with a real TOTP code and download both items.
    staff = fresh_staff(live)
    journalist = requests.Session()
    assert staff_login(live, journalist, staff).status_code == 302
    listing = journalist.get(live.journalist.url + "/").text
    source_path = re.search(r'href="(/sources/[0-9a-f-]{36})"', listing).group(1)
    source_page = journalist.get(live.journalist.url + source_path).text
    downloads = re.findall(
        r'href="(/sources/[0-9a-f-]{36}/items/[0-9a-f-]{36}/download)"', source_page
    )
    assert len(downloads) == 2
    blobs = {}
    for link in downloads:
        got = journalist.get(live.journalist.url + link)
        assert got.status_code == 200
        name = re.search(r'filename="?([^";]+)"?', got.headers["Content-Disposition"]).group(1)
        blobs[name] = got.content

    # 3. Decrypt with the test private key and compare every byte.
    message_name = next(n for n in blobs if n.endswith("-msg.gpg"))
    document_name = next(n for n in blobs if n.endswith("-doc.gz.gpg"))
    assert offline_key.decrypt(blobs[message_name]) == b"They make my brother carry packages."
    compressed = offline_key.decrypt(blobs[document_name])
    assert gzip_name(compressed) == "evidence.bin"
    plain = gzip.decompress(compressed)
    assert len(plain) == FIFTY_MB
    assert hashlib.sha256(plain).hexdigest() == expected_digest
    assert struct.unpack("<I", compressed[-4:])[0] == FIFTY_MB % 2**32

    # 4. Staff reply.
    reply_text = "Thank you for telling us. You did the right thing. We are here to help."
    response = journalist.post(
        live.journalist.url + source_path + "/reply",
        data={"csrf_token": csrf(source_page), "message": reply_text},
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text

    # 5. The source logs back in with the codename and reads the reply.
    returning = requests.Session()
    login_page = returning.get(live.source.url + "/login").text
    response = returning.post(
        live.source.url + "/login",
        data={"csrf_token": csrf(login_page), "codename": codename},
        allow_redirects=False,
    )
    assert response.status_code == 302
    lookup = returning.get(live.source.url + "/lookup").text
    assert reply_text in lookup
