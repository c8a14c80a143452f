"""Run testssl.sh (Debian's `testssl`) against a local HTTPS front, as the playbook sets it up
(issue 17): `python -m bench.tls_front`. Needs nginx and testssl installed; prints testssl's
protocol, cipher and header sections. Nothing but the local nginx is contacted."""

from __future__ import annotations

import shutil
import subprocess
import sys

from seethesigns.front.nginx import FrontConfig, HttpsFront, render_nginx_config
from tests.certificates import TestAuthority
from tests.conftest import short_tmpdir
from tests.integration.conftest import free_port, front_config, start_nginx, stop_nginx

DOMAIN = "report.seethesigns.test"


def main() -> int:
    """Start nginx with the HTTPS front (no app behind it: "/" answers 502) and scan it."""
    testssl = shutil.which("testssl")
    if testssl is None:
        print("testssl is not installed: apt-get install testssl.sh", file=sys.stderr)
        return 1
    directory = short_tmpdir("ststls")
    authority = TestAuthority(directory)
    issued = authority.issue(DOMAIN, "127.0.0.1")
    https = HttpsFront(
        domain=DOMAIN,
        certificate=issued.certificate,
        certificate_key=issued.key,
        onion_address="a" * 56,
        port=free_port(),
        http_port=None,
        listen_addresses=("127.0.0.1",),
    )
    config: FrontConfig = front_config(directory, directory, https=https)
    (directory / "nginx.conf").write_text(render_nginx_config(config))
    nginx = start_nginx(config, directory)
    try:
        result = subprocess.run(
            [testssl, "--quiet", "--color", "0", "--warnings", "off", "--sneaky",
             "-p", "-s", "-f", "-E", "-h", "-U", "--add-ca", str(authority.path),
             f"127.0.0.1:{https.port}"],
            capture_output=True, text=True, check=False, timeout=900,
        )  # fmt: skip
        print(result.stdout)
        print(result.stderr, file=sys.stderr)
    finally:
        stop_nginx(nginx)
        shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
