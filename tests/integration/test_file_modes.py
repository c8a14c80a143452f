"""Every file an instance writes is private to its user (0600), every folder 0700.

The instance is made with `seethesigns init` and served by `seethesigns serve`, under the
common umask 022, so that anything left to the umask shows up here as readable by others.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
import requests

from seethesigns.settings import load_settings
from tests.conftest import OfflineKey, csrf_token, short_tmpdir
from tests.integration.conftest import (
    SEETHESIGNS,
    LiveInstance,
    activate_named,
    csrf,
    new_source,
    staff_login,
    start_server,
    stop_server,
)
from tests.journalist_interface.api.conftest import client_encrypt

SHARED_BITS = stat.S_IRWXG | stat.S_IRWXO


@pytest.fixture
def common_umask() -> Iterator[None]:
    """Run the commands as a shell usually would: umask 022."""
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture
def initialised(offline_key: OfflineKey, common_umask: None) -> Iterator[Path]:
    """A fresh instance made by `seethesigns init`, with cheap argon2; yields its config."""
    home = short_tmpdir("stsmodes")
    key = home / "submission-public.asc"
    key.write_text(offline_key.public_key)
    data_dir = home / "data"
    subprocess.run(
        [str(SEETHESIGNS), "init", "--data-dir", str(data_dir), "--submission-key", str(key)],
        check=True,
        capture_output=True,
    )
    config = data_dir / "seethesigns.toml"
    text = re.sub(r"(?m)^time_cost = \d+$", "time_cost = 1", config.read_text())
    config.write_text(re.sub(r"(?m)^memory_cost_kib = \d+$", "memory_cost_kib = 64", text))
    yield config
    subprocess.run(["gpgconf", "--homedir", str(data_dir / "gnupg"), "--kill", "all"], check=False)
    shutil.rmtree(home, ignore_errors=True)


def shared(data_dir: Path) -> list[str]:
    """Files and folders under data_dir that the group or others may use, with their modes."""
    found = []
    for path in sorted(data_dir.rglob("*")):
        mode = path.lstat().st_mode
        if (stat.S_ISREG(mode) or stat.S_ISDIR(mode)) and mode & SHARED_BITS:
            found.append(f"{path.relative_to(data_dir)} {stat.S_IMODE(mode):o}")
    return found


def act(live: LiveInstance, offline_key: OfflineKey) -> None:
    """A source reports; staff reply through the API, download, star, and label on the web."""
    source = requests.Session()
    new_source(live.source.url, source)
    page = source.get(live.source.url + "/lookup").text
    sent = source.post(
        live.source.url + "/submit",
        data={"csrf_token": csrf(page), "msg": "They keep my brother out at night."},
        files={"fh": ("bag.jpg", b"a picture, pretend" * 50, "image/jpeg")},
        allow_redirects=False,
    )
    assert sent.status_code == 302, sent.text

    staff = live.staff
    token = requests.post(
        live.journalist.url + "/api/v1/token",
        json={
            "username": staff["username"],
            "passphrase": staff["passphrase"],
            "one_time_code": pyotp.TOTP(staff["totp_secret"]).now(),
        },
        timeout=30,
    ).json()["token"]
    api = requests.Session()
    api.headers["Authorization"] = f"Token {token}"
    base = live.journalist.url + "/api/v1"
    (found,) = api.get(base + "/sources", timeout=30).json()["sources"]
    armored = client_encrypt("We are here for you.", found["key"]["public"], offline_key.public_key)
    reply = api.post(found["replies_url"].replace("/api/v1", base, 1), json={"reply": armored})
    assert reply.status_code == 201, reply.text
    for item in api.get(base + f"/sources/{found['uuid']}/submissions").json()["submissions"]:
        assert api.get(item["download_url"].replace("/api/v1", base, 1)).status_code == 200
    assert api.post(found["add_star_url"].replace("/api/v1", base, 1)).status_code == 201

    web = requests.Session()
    next_code = pyotp.TOTP(staff["totp_secret"]).at(time.time() + 30)  # the API used this one
    assert staff_login(live, web, staff, next_code).status_code == 302
    page = web.get(live.journalist.url + f"/sources/{found['uuid']}").text
    labelled = web.post(
        live.journalist.url + f"/sources/{found['uuid']}/labels",
        data={"csrf_token": csrf_token(page), "label": "school"},
        allow_redirects=False,
    )
    assert labelled.status_code == 302


def test_every_file_of_an_instance_is_private(initialised: Path, offline_key: OfflineKey) -> None:
    settings = load_settings(initialised)
    made = subprocess.run(
        [str(SEETHESIGNS), "add-staff", "casey", "--json", "--config", str(initialised)],
        capture_output=True,
        text=True,
        check=True,
    )
    activate_named(settings, "casey")
    log_dir = short_tmpdir("stsmodelog")
    source = start_server("source", initialised, log_dir)
    journalist = start_server("journalist", initialised, log_dir)
    try:
        live = LiveInstance(
            settings, initialised, source, journalist, json.loads(made.stdout), log_dir
        )
        act(live, offline_key)
        assert list(settings.store_dir.glob("*/*.gpg"))  # something was stored
        assert (settings.data_dir / "seethesigns.db-wal").exists()  # while the servers run
        modes = shared(settings.data_dir)
        assert modes == [], "\n".join(modes)
    finally:
        stop_server(source)
        stop_server(journalist)
        shutil.rmtree(log_dir, ignore_errors=True)
    assert shared(settings.data_dir) == []
