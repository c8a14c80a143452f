"""The whole journey over real HTTP, ending on the workstation.

A key made by `seethesigns-workstation keygen` becomes an instance's submission key; under
gunicorn a source sends a message and files with awkward names; staff reply and take the
bulk export as a zip; the installed `seethesigns-workstation open`, in a network namespace
of its own with no network, decrypts it; every byte and every name is compared with what
was sent, and the index lists each item.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape
from pathlib import Path

import pytest
import requests

from seethesigns.uploads import sanitize_filename
from tests.conftest import OfflineKey, make_instance, short_tmpdir
from tests.databases import TemplateDatabase
from tests.integration.conftest import (
    LiveInstance,
    csrf,
    fresh_staff,
    new_source,
    staff_login,
    start_server,
    stop_server,
)
from tests.workstation.conftest import PASSPHRASE, WorkstationKey, stop_agent

SCRIPT = Path(sys.executable).parent / "seethesigns-workstation"
FIRST_MESSAGE = "They make my brother carry packages.\nHe is 14. <b>Help</b> & hurry."
LAST_MESSAGE = "Thank you. Ça va mieux 🙂"
REPLY = "Thank you for telling us. You did the right thing."
# Production limits, only the S2K cost turned down: a 6 MiB file of zeros must open.
ROUND_TRIP_CONFIG = "[keys]\ns2k_count = 65536\n"


@dataclass(frozen=True)
class Sent:
    """A file as the source's browser sent it."""

    name: str
    content: bytes

    @property
    def expected_name(self) -> str:
        """The name it should come back under: the server's sanitised form of it."""
        return sanitize_filename(self.name)


FILES = [
    Sent("evidence.bin", os.urandom(3 * 1024 * 1024)),
    Sent("../../etc/passwd", b"root:x:0:0:not really\n"),
    Sent("résumé café.pdf", b"%PDF-1.4\n" + os.urandom(2048)),
    Sent("invoice\u202egpj.exe", b"MZ" + os.urandom(512)),
    Sent("..hidden notes.txt", "notes ünïcode\n".encode()),
    Sent("Users/kid/photo.jpg", b"\xff\xd8\xff\xe0" + os.urandom(4096)),
    Sent("photo.jpg", b"\xff\xd8\xff\xe0 a different photo"),
    Sent("emoji 📷 " + "long" * 60 + ".png", b"\x89PNG" + os.urandom(100)),
    Sent("zeros.img", bytes(6 * 1024 * 1024)),
]


@pytest.fixture(scope="module")
def live(
    workstation_key: WorkstationKey, template_database: TemplateDatabase
) -> Iterator[LiveInstance]:
    """An instance whose submission key is the workstation's, served by gunicorn."""
    key = OfflineKey(
        workstation_key.homedir, workstation_key.fingerprint, workstation_key.public_key
    )
    settings = make_instance(key, template_database)
    config = settings.data_dir / "seethesigns.toml"
    log_dir = short_tmpdir("stwlog")
    source = start_server("source", config, log_dir)
    journalist = start_server("journalist", config, log_dir)
    yield LiveInstance(settings, config, source, journalist, {}, log_dir)
    stop_server(source)
    stop_server(journalist)
    stop_agent(settings.gnupg_homedir)
    shutil.rmtree(settings.data_dir, ignore_errors=True)
    shutil.rmtree(log_dir, ignore_errors=True)


def submit(live: LiveInstance, http: requests.Session, message: str, files: list[Sent]) -> None:
    """Send a message and files from the source's lookup page."""
    page = http.get(live.source.url + "/lookup").text
    response = http.post(
        live.source.url + "/submit",
        data={"csrf_token": csrf(page), "msg": message},
        files=[("fh", (sent.name, sent.content, "application/octet-stream")) for sent in files],
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text


def reply_as_staff(live: LiveInstance, staff: requests.Session) -> str:
    """Reply to the only source from their page; return the source's uuid."""
    listing = staff.get(live.journalist.url + "/").text
    (source_uuid,) = re.findall(r'name="source" value="([0-9a-f-]{36})"', listing)
    source_page = staff.get(f"{live.journalist.url}/sources/{source_uuid}").text
    response = staff.post(
        f"{live.journalist.url}/sources/{source_uuid}/reply",
        data={"csrf_token": csrf(source_page), "message": REPLY},
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text
    return source_uuid


def download_export(
    live: LiveInstance, staff: requests.Session, source_uuid: str, path: Path
) -> None:
    """The staff interface's bulk download of one source, as a browser saves it."""
    listing = staff.get(live.journalist.url + "/").text
    response = staff.post(
        live.journalist.url + "/bulk/sources",
        data={"csrf_token": csrf(listing), "source": source_uuid, "action": "download"},
        stream=True,
    )
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/zip"
    with path.open("wb") as handle:
        for chunk in response.iter_content(1024 * 1024):
            handle.write(chunk)


def open_offline(
    key: WorkstationKey, export: Path, out: Path, config: Path
) -> subprocess.CompletedProcess[str]:
    """The installed command in a new network namespace: only a loopback, and that is down."""
    return subprocess.run(
        [
            "unshare",
            "--net",
            str(SCRIPT),
            "--config",
            str(config),
            "open",
            str(export),
            "--out",
            str(out),
            "--homedir",
            str(key.homedir),
            "--passphrase-fd",
            "0",
        ],
        input=PASSPHRASE + "\n",
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_report_export_and_open_on_the_workstation(
    live: LiveInstance, workstation_key: WorkstationKey, workdir: Path
) -> None:
    # 1. A source sends a message and files, then later one more message.
    source = requests.Session()
    new_source(live.source.url, source)
    submit(live, source, FIRST_MESSAGE, FILES)

    # 2. Staff log in, reply, the source answers, and staff take the bulk export.
    staff = requests.Session()
    assert staff_login(live, staff, fresh_staff(live)).status_code == 302
    source_uuid = reply_as_staff(live, staff)
    submit(live, source, LAST_MESSAGE, [])
    export = workdir / "export.zip"
    download_export(live, staff, source_uuid, export)

    with zipfile.ZipFile(export) as archive:
        names = archive.namelist()
    (designation,) = {name.split("/", 1)[0] for name in names}
    kinds = [re.sub(r"^.*/(\d+)-[a-z_]+-", r"\1-", name) for name in names]
    expected_kinds = ["1-msg.gpg"]
    expected_kinds += [f"{n}-doc.gz.gpg" for n in range(2, 2 + len(FILES))]
    expected_kinds += [f"{len(FILES) + 2}-reply.gpg", f"{len(FILES) + 3}-msg.gpg"]
    assert sorted(kinds) == sorted(expected_kinds)

    # 3. The workstation opens it with no network at all.
    config = workdir / "workstation.toml"
    config.write_text(ROUND_TRIP_CONFIG)
    out = workdir / "out"
    run = open_offline(workstation_key, export, out, config)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "NETWORK IS UP" not in run.stderr
    assert f"Opened {len(names)} of {len(names)} entries." in run.stdout

    # 4. Every byte and every name is what the source sent.
    folder = out / designation
    assert (folder / "1-message.txt").read_text() == FIRST_MESSAGE
    assert (folder / f"{len(FILES) + 2}-reply.txt").read_text() == REPLY
    assert (folder / f"{len(FILES) + 3}-message.txt").read_text() == LAST_MESSAGE
    restored = {path.name: path.read_bytes() for path in (folder / "documents").iterdir()}
    expected: dict[str, bytes] = {}
    for sent in FILES:
        name = sent.expected_name
        if name in expected:  # the second photo.jpg
            stem, _, suffix = name.rpartition(".")
            name = f"{stem} (2).{suffix}"
        expected[name] = sent.content
    assert sorted(restored) == sorted(expected)
    for name, content in expected.items():
        assert hashlib.sha256(restored[name]).digest() == hashlib.sha256(content).digest(), name
    assert all(out.resolve() in path.resolve().parents for path in out.rglob("*"))

    # 5. The index lists each item, and the summary says the same.
    index = (out / "index.html").read_text()
    assert f'href="{designation}/index.html"' in index
    assert f"{len(names)} of {len(names)} items opened" in index
    page = (folder / "index.html").read_text()
    assert "He is 14. &lt;b&gt;Help&lt;/b&gt; &amp; hurry." in page
    assert page.index("They make my brother") < page.index(REPLY) < page.index("Ça va mieux")
    for name in expected:
        assert f">{escape(name)}</a>" in page, name
        assert f"  {name} ({len(expected[name]):,} bytes)" in run.stdout, name
