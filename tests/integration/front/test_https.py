"""The HTTPS front (issue 17): real nginx terminating real TLS with a certificate from a CA the
test made and the client trusts, before the same gunicorn processes as the onion's front."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

from seethesigns.db import make_engine, make_session_factory
from seethesigns.front.nginx import HttpsFront
from seethesigns.instance_settings import instance_config
from seethesigns.onion import OnionKeys
from tests.certificates import TestAuthority
from tests.conftest import create_form, csrf_token, short_tmpdir
from tests.integration.conftest import Nginx, free_port, front_config, start_nginx, stop_nginx
from tests.integration.front.conftest import CLIENT_ADDRESS, MAX_BYTES, Fronted
from tests.integration.test_security_rules import found_in_files

DOMAIN = "report.seethesigns.test"
REPORT = "A man gives my brother money to take bags to another town."


class FromAddress(HTTPAdapter):
    """Connections from one loopback address, so the test can look for it afterwards."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """Every pool binds its sockets to the address."""
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


@dataclass
class HttpsSite:
    """nginx with the HTTPS front before the fronted instance, and the CA its clients trust."""

    nginx: Nginx
    https: HttpsFront
    authority: TestAuthority

    @property
    def url(self) -> str:
        """The source interface over HTTPS (the certificate names 127.0.0.1 too)."""
        return f"https://127.0.0.1:{self.https.port}"

    def client(self) -> requests.Session:
        """A browser-like client from CLIENT_ADDRESS that trusts the test's CA only."""
        session = requests.Session()
        session.trust_env = False  # no proxy, and no CA bundle from the environment
        session.verify = str(self.authority.path)
        session.mount("https://", FromAddress(CLIENT_ADDRESS))
        session.mount("http://", FromAddress(CLIENT_ADDRESS))
        return session

    def onion_location(self, path: str) -> str:
        """What Onion-Location must say on path."""
        return f"{self.https.onion_location}{path}"


@pytest.fixture(scope="module")
def https_site(fronted: Fronted) -> Iterator[HttpsSite]:
    """A second nginx, with the HTTPS front on, before the package's gunicorn processes."""
    directory = short_tmpdir("stshttps")
    authority = TestAuthority(directory)
    issued = authority.issue(DOMAIN, "127.0.0.1")
    https = HttpsFront(
        domain=DOMAIN,
        certificate=issued.certificate,
        certificate_key=issued.key,
        onion_address=OnionKeys(fronted.settings.tor.keys_dir).service_key("source").address,
        port=free_port(),
        http_port=free_port(),
        listen_addresses=("127.0.0.1",),
    )
    config = front_config(directory, fronted.directory, max_upload_bytes=MAX_BYTES, https=https)
    nginx = start_nginx(config, directory)
    yield HttpsSite(nginx, https, authority)
    stop_nginx(nginx)
    shutil.rmtree(directory, ignore_errors=True)


def checked(site: HttpsSite, response: requests.Response, path: str) -> requests.Response:
    """response, after checking the headers every page of the HTTPS front carries."""
    headers = response.headers
    assert headers["Onion-Location"] == site.onion_location(path), path
    assert headers["Strict-Transport-Security"] == "max-age=63072000", path
    assert headers["Referrer-Policy"] == "no-referrer", path
    assert "default-src 'none'" in headers["Content-Security-Policy"], path
    return response


def test_a_report_over_https_with_onion_location_on_every_page(https_site: HttpsSite) -> None:
    client = https_site.client()
    for path in ("/", "/signs", "/hide-your-visit", "/login", "/no-such-page"):
        page = checked(https_site, client.get(https_site.url + path), path)
        assert page.status_code == (404 if path == "/no-such-page" else 200), path
    home = client.get(https_site.url + "/").text
    assert "You are on the ordinary web." in home
    generate = checked(https_site, client.get(https_site.url + "/generate"), "/generate")
    created = client.post(
        https_site.url + "/create", data=create_form(generate.text), allow_redirects=False
    )
    checked(https_site, created, "/create")
    assert created.status_code == 302
    lookup = checked(https_site, client.get(https_site.url + "/lookup"), "/lookup")
    sent = client.post(
        https_site.url + "/submit",
        files={"msg": (None, REPORT), "csrf_token": (None, csrf_token(lookup.text))},
        allow_redirects=False,
    )
    checked(https_site, sent, "/submit")
    assert sent.status_code == 302, sent.text
    # nginx's own pages carry it too: a form over the limit never reaches gunicorn.
    too_large = client.post(https_site.url + "/login", data={"codename": "x" * 200_000})
    checked(https_site, too_large, "/login")
    assert too_large.status_code == 413


def test_plain_http_only_sends_the_browser_to_https(https_site: HttpsSite) -> None:
    client = https_site.client()
    response = client.get(
        f"http://127.0.0.1:{https_site.https.http_port}/lookup", allow_redirects=False
    )
    assert response.status_code == 301
    assert response.headers["Location"] == f"https://{DOMAIN}:{https_site.https.port}/lookup"
    assert response.headers["Onion-Location"] == https_site.onion_location("/lookup")
    assert "codename" not in response.text


def test_the_staff_interface_is_not_on_the_https_front(
    https_site: HttpsSite, fronted: Fronted
) -> None:
    staff_page = requests.get(fronted.nginx.journalist_url + "/login", timeout=10)
    assert staff_page.status_code == 200
    over_https = https_site.client().get(https_site.url + "/login").text
    assert over_https != staff_page.text
    assert (
        "journalist"
        not in https_site.nginx.directory.joinpath("nginx.conf")
        .read_text()
        .split("## The HTTPS front")[1]
        .split("## The staff interface")[0]
    )


def test_a_client_cannot_claim_the_https_front_on_the_onion(https_site: HttpsSite) -> None:
    onion = requests.get(
        https_site.nginx.source_url + "/", headers={"X-SeeTheSigns-Front": "https"}, timeout=10
    )
    assert "You are using Tor Browser" in onion.text
    assert "Onion-Location" not in onion.headers


def tls_connect(site: HttpsSite, context: ssl.SSLContext) -> tuple[str, str]:
    """Handshake with the front: the protocol and cipher agreed."""
    context.load_verify_locations(site.authority.path)
    with (
        socket.create_connection(("127.0.0.1", site.https.port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=DOMAIN) as conn,
    ):
        cipher = conn.cipher()
        assert cipher is not None
        return str(conn.version()), cipher[0]


def test_tls_is_1_2_or_later_with_forward_secret_aead_ciphers(https_site: HttpsSite) -> None:
    assert tls_connect(https_site, ssl.create_default_context())[0] == "TLSv1.3"
    twelve = ssl.create_default_context()
    twelve.maximum_version = ssl.TLSVersion.TLSv1_2
    version, cipher = tls_connect(https_site, twelve)
    assert version == "TLSv1.2"
    assert cipher.startswith("ECDHE-ECDSA-") and ("GCM" in cipher or "CHACHA20" in cipher)
    # A CBC cipher a default OpenSSL client still offers is refused.
    cbc = ssl.create_default_context()
    cbc.maximum_version = ssl.TLSVersion.TLSv1_2
    cbc.set_ciphers("ECDHE-ECDSA-AES128-SHA")
    with pytest.raises(ssl.SSLError):
        tls_connect(https_site, cbc)
    # TLS 1.1 and 1.0, offered by OpenSSL's own client (Python's refuses to): no handshake.
    assert s_client(https_site, "-tls1_2").returncode == 0
    for old in ("-tls1_1", "-tls1"):
        assert s_client(https_site, old, "-cipher", "ALL:@SECLEVEL=0").returncode != 0, old


def s_client(site: HttpsSite, *options: str) -> subprocess.CompletedProcess[str]:
    """openssl s_client's handshake with the front, trusting the test's CA."""
    return subprocess.run(
        [
            "openssl",
            "s_client",
            "-connect",
            f"127.0.0.1:{site.https.port}",
            "-servername",
            DOMAIN,
            "-CAfile",
            str(site.authority.path),
            "-verify_return_error",
            *options,
        ],
        input="",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_no_client_address_reaches_any_file_over_https(
    https_site: HttpsSite, fronted: Fronted
) -> None:
    client = https_site.client()
    client.get(https_site.url + "/", headers={"X-Forwarded-For": "198.51.100.7"})
    client.post(https_site.url + "/login", data={"codename": "x" * 200_000})
    client.get(f"http://127.0.0.1:{https_site.https.http_port}/", allow_redirects=False)
    # A client that does not trust the certificate, and one that speaks no TLS at all.
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(https_site.url, timeout=10)
    raw = socket.socket()
    raw.bind((CLIENT_ADDRESS, 0))
    raw.connect(("127.0.0.1", https_site.https.port))
    raw.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    raw.recv(4096)
    raw.close()
    time.sleep(0.5)
    written = [*fronted.written_by_servers(), https_site.nginx.directory]
    assert (https_site.nginx.directory / "nginx.stderr").exists()
    assert not found_in_files(CLIENT_ADDRESS.encode(), *written)
    assert not found_in_files(b"198.51.100.7", *written)


def test_with_tor_required_the_https_front_refuses_reports(
    https_site: HttpsSite, fronted: Fronted
) -> None:
    client = https_site.client()
    generate = client.get(https_site.url + "/generate")
    client.post(https_site.url + "/create", data=create_form(generate.text))
    token = csrf_token(client.get(https_site.url + "/lookup").text)
    require_tor(fronted, True)
    try:
        home = checked(https_site, client.get(https_site.url + "/"), "/")
        assert "Please use Tor Browser for this site" in home.text
        assert f"{https_site.https.onion_address}.onion" in home.text
        sent = client.post(
            https_site.url + "/submit",
            files={"msg": (None, "refused over https"), "csrf_token": (None, token)},
            allow_redirects=False,
        )
        assert sent.status_code == 403
        assert "Please use Tor Browser for this site" in sent.text
        onion = requests.get(https_site.nginx.source_url + "/", timeout=10)
        assert "Please use Tor Browser" not in onion.text
        assert "Start a new report" in onion.text
    finally:
        require_tor(fronted, False)


def require_tor(fronted: Fronted, required: bool) -> None:
    """Set the admin setting, as the settings page stores it."""
    engine = make_engine(fronted.settings.database_url)
    with make_session_factory(engine)() as db:
        instance_config(db).require_tor = required
        db.commit()
    engine.dispose()
