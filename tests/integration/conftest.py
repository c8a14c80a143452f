"""Both interfaces under real gunicorn processes, started with the operator's own command,
and the nginx front before them."""

from __future__ import annotations

import getpass
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyotp
import pytest
import requests
from sqlalchemy import select

from seethesigns.db import make_engine, make_session_factory
from seethesigns.front.nginx import FrontConfig, render_nginx_config
from seethesigns.models import Staff
from seethesigns.settings import Settings
from seethesigns.staff_accounts import StaffAccounts
from tests.conftest import OfflineKey, activate, create_form, make_instance, short_tmpdir
from tests.databases import TemplateDatabase

SEETHESIGNS = Path(sys.executable).parent / "seethesigns"
CODENAME = re.compile(r'<p class="codename" id="codename">([a-z -]+)</p>')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSPHRASE = re.compile(r'<p class="secret" id="passphrase">([a-z -]+)</p>')
TOTP_SECRET = re.compile(r'<code id="totp-secret">([A-Z2-7 ]+)</code>')


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """One `seethesigns serve` process."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path
    log_handle: BinaryIO

    def worker_pids(self) -> list[int]:
        """The gunicorn worker processes (children of the master)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]


@dataclass
class LiveInstance:
    """A real instance with both interfaces served over HTTP, and a staff account."""

    settings: Settings
    config: Path
    source: Server
    journalist: Server
    staff: dict[str, str]
    log_dir: Path


def _answers(url: str, unix_socket: Path | None) -> bool:
    """Whether the server answers an HTTP request yet (a busy machine answers late)."""
    try:
        if unix_socket is None:
            requests.get(url + "/login", timeout=2)
            return True
        with socket.socket(socket.AF_UNIX) as conn:
            conn.settimeout(2)
            conn.connect(str(unix_socket))
            conn.sendall(b"GET /login HTTP/1.0\r\n\r\n")
            return conn.recv(16).startswith(b"HTTP/")
    except (OSError, requests.ConnectionError, requests.Timeout):
        return False


def start_server(
    interface: str,
    config: Path,
    log_dir: Path,
    extra_args: Sequence[str] = (),
    *,
    configured_port: int | None = None,
    unix_socket: Path | None = None,
) -> Server:
    """Start one interface with `seethesigns serve` and wait until it answers.

    With configured_port, no --port is given: the configuration must bind it there. With
    unix_socket it listens there, as behind the nginx front, and url names the socket.
    """
    port = configured_port or free_port()
    if unix_socket is not None:
        where = ["--unix-socket", str(unix_socket)]
    else:
        where = [] if configured_port else ["--port", str(port)]
    log = log_dir / f"{interface}.log"
    handle = log.open("wb")
    process = subprocess.Popen(
        [
            str(SEETHESIGNS),
            "serve",
            interface,
            *where,
            "--workers",
            "1",
            "--config",
            str(config),
            *extra_args,
        ],
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"unix:{unix_socket}" if unix_socket else f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            handle.close()
            raise RuntimeError(f"{interface} exited: {log.read_text()}")
        if _answers(url, unix_socket):
            return Server(process, url, log, handle)
        time.sleep(0.1)
    process.kill()
    handle.close()
    raise RuntimeError(f"{interface} did not start: {log.read_text()}")


def stop_server(server: Server) -> None:
    """Stop the gunicorn master and its workers."""
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()
    server.log_handle.close()


def nginx_binary() -> str:
    """Debian's nginx (in /usr/sbin, which may not be on PATH); fail if it is missing."""
    found = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
    if found is None:
        pytest.fail("nginx is not installed: `make system-packages` installs it")
    return found


@dataclass
class Nginx:
    """One nginx master process running a rendered front configuration from directory."""

    process: subprocess.Popen[bytes]
    config: FrontConfig
    directory: Path
    log_handle: BinaryIO

    @property
    def source_url(self) -> str:
        """The source interface, where tor's onion service would point."""
        return f"http://127.0.0.1:{self.config.source_port}"

    @property
    def journalist_url(self) -> str:
        """The staff interface."""
        return f"http://127.0.0.1:{self.config.journalist_port}"

    def worker_pids(self) -> list[int]:
        """nginx's worker processes (children of the master)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]


def front_config(directory: Path, socket_dir: Path, **values: object) -> FrontConfig:
    """A front whose every path is in directory, on free ports, with short timeouts."""
    defaults: dict[str, object] = {
        "source_port": free_port(),
        "journalist_port": free_port(),
        "max_upload_bytes": 2 * 1024**3,
        "source_upstream": f"unix:{socket_dir}/source.sock",
        "journalist_upstream": f"unix:{socket_dir}/journalist.sock",
        # As root, nginx's workers would otherwise run as nobody, who cannot enter directory.
        "user": getpass.getuser() if os.geteuid() == 0 else None,
        "pid_file": directory / "nginx.pid",
        "temp_dir": directory / "temp",
        "app_threads": 4,
        "header_timeout": 2,
        "body_timeout": 2,
        "upload_timeout": 2,
    }
    return FrontConfig(**{**defaults, **values})  # type: ignore[arg-type]


def start_nginx(config: FrontConfig, directory: Path, edit: Callable[[str], str] = str) -> Nginx:
    """Run nginx in the foreground on config; its stderr (the error log) goes to a file in
    directory, like everything else it writes. Controls edit the rendered text."""
    (directory / "temp").mkdir(exist_ok=True)
    conf = directory / "nginx.conf"
    conf.write_text(edit(render_nginx_config(config)))
    handle = (directory / "nginx.stderr").open("ab")
    process = subprocess.Popen(
        # -e: even the messages before the configuration is read go to stderr, not to
        # /var/log/nginx.
        [
            nginx_binary(),
            "-e",
            "stderr",
            "-p",
            str(directory),
            "-c",
            str(conf),
            "-g",
            "daemon off;",
        ],
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    front = Nginx(process, config, directory, handle)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            handle.close()
            raise RuntimeError(f"nginx exited: {(directory / 'nginx.stderr').read_text()}")
        try:
            socket.create_connection(("127.0.0.1", config.source_port), timeout=1).close()
            return front
        except OSError:
            time.sleep(0.05)
    stop_nginx(front)
    raise RuntimeError("nginx did not start listening")


def stop_nginx(front: Nginx) -> None:
    """Stop nginx (SIGTERM: its fast shutdown) and its workers."""
    if front.process.poll() is None:
        front.process.terminate()
        try:
            front.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(front.process.pid, signal.SIGKILL)
            front.process.wait()
    front.log_handle.close()


@pytest.fixture(scope="module")
def live(offline_key: OfflineKey, template_database: TemplateDatabase) -> Iterator[LiveInstance]:
    """Both interfaces of a fresh instance, under gunicorn, and one staff member."""
    settings = make_instance(offline_key, template_database)
    config = settings.data_dir / "seethesigns.toml"
    log_dir = short_tmpdir("stslog")
    made = subprocess.run(
        [str(SEETHESIGNS), "add-staff", "casey", "--admin", "--json", "--config", str(config)],
        capture_output=True,
        text=True,
        check=True,
    )
    staff = json.loads(made.stdout)
    activate_named(settings, staff["username"])
    source = start_server("source", config, log_dir)
    journalist = start_server("journalist", config, log_dir)
    yield LiveInstance(settings, config, source, journalist, staff, log_dir)
    stop_server(source)
    stop_server(journalist)
    subprocess.run(
        ["gpgconf", "--homedir", str(settings.gnupg_homedir), "--kill", "all"], check=False
    )
    shutil.rmtree(settings.data_dir, ignore_errors=True)
    shutil.rmtree(log_dir, ignore_errors=True)


def activate_named(settings: Settings, username: str) -> None:
    """Make the named account active, as if its first login were done."""
    with make_session_factory(make_engine(settings.database_url))() as db:
        staff = db.scalar(select(Staff).where(Staff.username == username))
        assert staff is not None, username
        activate(db, staff)


def csrf(html: str) -> str:
    """The CSRF token in a page."""
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def new_source(base_url: str, http: requests.Session) -> str:
    """Create a source over HTTP; return its codename."""
    page = http.get(base_url + "/generate").text
    codename = CODENAME.search(page)
    assert codename
    form = create_form(page)
    response = http.post(base_url + "/create", data=form, allow_redirects=False)
    assert response.status_code == 302, response.text
    return codename.group(1)


def fresh_staff(live: LiveInstance, *, active: bool = True) -> dict[str, str]:
    """Another staff account, so each test has TOTP time steps of its own.

    Active, as if its first login were done, unless `active=False`.
    """
    accounts = StaffAccounts(live.settings.argon2, live.settings.login)
    with make_session_factory(make_engine(live.settings.database_url))() as db:
        created = accounts.create(db, f"staff-{secrets.token_hex(4)}")
        if active:
            activate(db, created.staff)
    return {
        "username": created.staff.username,
        "passphrase": created.passphrase,
        "totp_secret": created.totp_secret,
    }


def unused_code(totp_secret: str, used: set[int]) -> str:
    """A code from a time step not in `used` (waiting for the next step if need be)."""
    while (step := int(time.time() // 30)) in used:
        time.sleep(30.05 - time.time() % 30)
    used.add(step)
    return pyotp.TOTP(totp_secret).at(step * 30)


def first_login_over_http(
    base_url: str, staff: dict[str, str], used: set[int] | None = None
) -> dict[str, str]:
    """Log a pending account in and do its first login, as its owner would in a browser.

    Returns the account's details with the passphrase and two-factor secret chosen there.
    The login's code is from a time step after those in `used` (each code is accepted once),
    so this may wait for the next step.
    """
    http, used = requests.Session(), set(used or ())
    used |= set(range(min(used, default=0), max(used, default=0) + 1))
    page = http.get(base_url + "/login", timeout=60).text
    form = {"username": staff["username"], "passphrase": staff["passphrase"]}
    form |= {"csrf_token": csrf(page), "token": unused_code(staff["totp_secret"], used)}
    logged_in = http.post(base_url + "/login", data=form, allow_redirects=False, timeout=60)
    assert logged_in.headers.get("Location") == "/first-login", logged_in.status_code
    page = http.get(base_url + "/first-login/passphrase", timeout=60).text
    found = PASSPHRASE.search(page)
    assert found, page[:2000]
    form = {"csrf_token": csrf(page), "passphrase": found.group(1)}
    http.post(base_url + "/first-login/passphrase", data=form, allow_redirects=False, timeout=60)
    page = http.get(base_url + "/first-login/two-factor", timeout=60).text
    secret = TOTP_SECRET.search(page)
    assert secret, page[:2000]
    own = {**staff, "passphrase": found.group(1), "totp_secret": secret.group(1).replace(" ", "")}
    form = {"csrf_token": csrf(page), "token": pyotp.TOTP(own["totp_secret"]).now()}
    done = http.post(
        base_url + "/first-login/two-factor", data=form, allow_redirects=False, timeout=60
    )
    assert done.headers.get("Location") == "/", done.status_code
    return own


def staff_login(
    live: LiveInstance, http: requests.Session, staff: dict[str, str], code: str | None = None
) -> requests.Response:
    """Post the staff login form over HTTP with a real TOTP code."""
    page = http.get(live.journalist.url + "/login").text
    return http.post(
        live.journalist.url + "/login",
        data={
            "csrf_token": csrf(page),
            "username": staff["username"],
            "passphrase": staff["passphrase"],
            "token": code or pyotp.TOTP(staff["totp_secret"]).now(),
        },
        allow_redirects=False,
    )
