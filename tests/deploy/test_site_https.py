"""One variable in the inventory puts the source interface on HTTPS too (issue 17), with
nothing about the client kept anywhere on the server.

This file runs after test_site.py (pytest takes files in name order) on the same target, to
save a fresh deployment: it leaves the target with the front on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests

from tests.certificates import TestAuthority
from tests.conftest import create_form
from tests.deploy.conftest import CODENAME, Deployed, Operator, csrf
from tests.deploy.lab import BRIDGE, PREFIX, run
from tests.integration.front.test_https import FromAddress

DOMAIN = "report.seethesigns.test"
# A second address on the lab's bridge, used by nothing but this client: ansible's ssh comes
# from the bridge's own address, which the journal names, and rightly.
CLIENT_ADDRESS = f"{PREFIX}.77"
ONION_LOCATION = re.compile(r"http://[a-z2-7]{56}\.onion(/.*)")
PAGES = ("/", "/signs", "/hide-your-visit", "/login", "/generate", "/no-such-page")
# Everywhere the server, nginx, the app or systemd could write a client's address.
WRITTEN = "/var/log /var/lib/seethesigns /var/lib/nginx /etc/nginx /run/seethesigns /tmp /var/tmp"


@pytest.fixture
def client_address() -> Iterator[str]:
    """CLIENT_ADDRESS on the bridge for the length of the test."""
    run(["ip", "addr", "add", f"{CLIENT_ADDRESS}/24", "dev", BRIDGE])
    yield CLIENT_ADDRESS
    run(["ip", "addr", "del", f"{CLIENT_ADDRESS}/24", "dev", BRIDGE], check=False)


def test_one_variable_puts_the_source_interface_on_https(
    deployed: Deployed, operator: Operator, client_address: str
) -> None:
    target = deployed.target
    authority = TestAuthority(operator.workdir)
    issued = authority.issue(DOMAIN, target.address)
    inventory = operator.inventory(
        target,
        extra={
            "seethesigns_https_domain": DOMAIN,
            "seethesigns_https_acme": False,
            "seethesigns_https_certificate_file": str(issued.certificate),
            "seethesigns_https_key_file": str(issued.key),
        },
    )
    operator.converge(inventory, label="https front on")
    client = requests.Session()
    client.trust_env = False
    client.verify = str(authority.path)  # the test's CA, trusted like a public one
    client.mount("https://", FromAddress(client_address))
    client.mount("http://", FromAddress(client_address))
    url = f"https://{target.address}"
    onions = set()
    for path in PAGES:
        response = client.get(url + path, timeout=60)
        assert response.status_code == (404 if path == "/no-such-page" else 200), path
        found = ONION_LOCATION.fullmatch(response.headers["Onion-Location"])
        assert found and found.group(1) == path, (path, response.headers["Onion-Location"])
        onions.add(response.headers["Onion-Location"].removesuffix(path))
        assert response.headers["Strict-Transport-Security"] == "max-age=63072000"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    assert len(onions) == 1
    assert "You are on the ordinary web." in client.get(url + "/", timeout=60).text
    # A whole report over HTTPS.
    page = client.get(url + "/generate", timeout=60).text
    assert CODENAME.search(page)
    created = client.post(
        url + "/create", data=create_form(page), allow_redirects=False, timeout=60
    )
    assert created.status_code == 302
    assert ONION_LOCATION.fullmatch(created.headers["Onion-Location"])
    lookup = client.get(url + "/lookup", timeout=60)
    sent = client.post(
        url + "/submit",
        data={"csrf_token": csrf(lookup.text), "msg": "Sent over the HTTPS front (deploy)."},
        allow_redirects=False,
        timeout=60,
    )
    assert sent.status_code == 302, sent.text[:2000]
    assert ONION_LOCATION.fullmatch(sent.headers["Onion-Location"])
    # Plain HTTP only redirects; the staff interface is nowhere on the clearnet.
    plain = client.get(f"http://{target.address}/lookup", allow_redirects=False, timeout=60)
    assert plain.headers["Location"] == f"https://{DOMAIN}/lookup"
    listening = deployed.host.check_output("ss -Hltn")
    assert "0.0.0.0:443" in listening and "0.0.0.0:8081" not in listening
    staff = deployed.host.check_output("nginx -T 2>/dev/null")
    https_block = staff.split("## The HTTPS front")[1].split("## The staff interface")[0]
    assert "journalist" not in https_block
    # The client's address is in no file and not in the journal.
    host = deployed.host
    host.check_output("journalctl --sync || true")
    in_files = host.run(f"grep -rlF --binary-files=text '{client_address}' {WRITTEN}")
    assert in_files.stdout == "", in_files.stdout
    journal = host.run(f"journalctl --no-pager -o verbose | grep -cF '{client_address}'")
    assert journal.stdout.strip() == "0", journal.stdout
    # Control: the same search finds the address where it is written.
    host.check_output(f"echo 'client {client_address}' > /var/tmp/sts-control")
    found = host.run(f"grep -rlF --binary-files=text '{client_address}' {WRITTEN}")
    host.check_output("rm /var/tmp/sts-control")
    assert found.stdout.strip() == "/var/tmp/sts-control"
