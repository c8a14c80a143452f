"""The deployment tests: the real playbook against real Debian 12 targets (tests/deploy/lab.py).

They carry the `deploy` marker (`make deploy-test` runs just them; `pytest -m "not deploy"`
leaves them out of a quick local run). They need root, as CI has; elsewhere they fail with the
reason rather than skip, so a green run always includes them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyotp
import pytest
import requests
import testinfra

from tests.conftest import ASKED_WORD, OfflineKey, create_form, make_offline_key, short_tmpdir
from tests.deploy.lab import Lab, Target
from tests.integration.conftest import first_login_over_http

ROOT = Path(__file__).resolve().parents[2]
# Each playbook run's timestamped log, kept after the run for a look at what took the time.
ARTIFACTS = ROOT / "test-artifacts" / "deploy"
ANSIBLE_DIR = ROOT / "ansible"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
CODENAME = re.compile(r'<p class="codename" id="codename">([a-z -]+)</p>')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
RECAP = re.compile(
    r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M
)
TIMINGS: list[tuple[str, float]] = []
# systemd-analyze security's exposure score per unit (0 is best, 10 worst).
SCORES: dict[str, float] = {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything in this folder is a deployment test."""
    for item in items:
        if "tests/deploy/" in str(item.fspath):
            item.add_marker(pytest.mark.deploy)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print how long each playbook run took (the figures the issue asks for)."""
    for name, seconds in TIMINGS:
        terminalreporter.write_line(f"deploy: {name}: {seconds:.1f} s")
    for unit, score in SCORES.items():
        terminalreporter.write_line(f"deploy: systemd-analyze security {unit}: {score:.1f}")


@dataclass
class PlaybookRun:
    """What one ansible-playbook run printed, and its recap per host."""

    returncode: int
    output: str
    seconds: float
    recap: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class Operator:
    """The operator's side: offline keys, an inventory folder, and the playbooks."""

    workdir: Path
    submission_key: OfflineKey
    backup_key: OfflineKey
    # Run before every playbook: the lab makes sure its apt proxy answers.
    before_play: Callable[[], None] | None = None

    def inventory(self, *targets: Target, extra: dict[str, Any] | None = None) -> Path:
        """An inventory folder for these targets, with the operator's variables."""
        folder = self.workdir / ("inventory-" + "-".join(t.name for t in targets))
        (folder / "group_vars").mkdir(parents=True, exist_ok=True)
        (folder / "keys").mkdir(exist_ok=True)
        (folder / "keys/submission-public.asc").write_text(self.submission_key.public_key)
        (folder / "keys/backup-public.asc").write_text(self.backup_key.public_key)
        (folder / "inventory.ini").write_text(
            "[seethesigns]\n" + "".join(t.inventory_line() + "\n" for t in targets)
        )
        variables = {
            "seethesigns_submission_key_file": "{{ inventory_dir }}/keys/submission-public.asc",
            "seethesigns_backup_key_file": "{{ inventory_dir }}/keys/backup-public.asc",
            "seethesigns_first_admin": "admin",
            "seethesigns_staff_devices": [{"name": "mash-laptop-1"}],
            "seethesigns_firewall_allow_ssh": True,
            "seethesigns_wheelhouse_cache": str(self.workdir / "wheelhouse-cache"),
            **(extra or {}),
        }
        (folder / "group_vars/seethesigns.yml").write_text(json.dumps(variables, indent=2))
        return folder

    def play(
        self, inventory: Path, playbook: str = "site.yml", *, label: str, **extra_vars: Any
    ) -> PlaybookRun:
        """Run one playbook from ansible/ and keep its output and recap."""
        if self.before_play is not None:
            self.before_play()
        args = [str(ANSIBLE_PLAYBOOK), "-i", str(inventory / "inventory.ini"), playbook]
        if extra_vars:
            args += ["--extra-vars", json.dumps(extra_vars)]
        env = dict(
            os.environ,
            ANSIBLE_CONFIG=str(ANSIBLE_DIR / "ansible.cfg"),
            ANSIBLE_FORCE_COLOR="0",
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_LOCAL_TEMP=str(self.workdir / "ansible-tmp"),
            ANSIBLE_HOME=str(self.workdir / "ansible-home"),
            ANSIBLE_LOG_PATH=str(ARTIFACTS / f"{label.replace(' ', '-')}.log"),
        )
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        result = subprocess.run(
            args, cwd=ANSIBLE_DIR, env=env, capture_output=True, text=True, check=False
        )
        seconds = time.monotonic() - started
        TIMINGS.append((label, seconds))
        output = result.stdout + result.stderr
        (self.workdir / f"{label.replace(' ', '-')}.log").write_text(output)
        run = PlaybookRun(result.returncode, output, seconds)
        for host, ok, changed, unreachable, failed in RECAP.findall(output):
            run.recap[host] = {
                "ok": int(ok),
                "changed": int(changed),
                "unreachable": int(unreachable),
                "failed": int(failed),
            }
        return run

    def converge(
        self, inventory: Path, playbook: str = "site.yml", *, label: str, **extra: Any
    ) -> PlaybookRun:
        """Run a playbook that must succeed; show its output when it does not."""
        run = self.play(inventory, playbook, label=label, **extra)
        assert run.returncode == 0, run.output[-6000:]
        return run


# The commit the deployment work started from: the first release an upgrade must carry over.
BASELINE = "a3f76b0ef2ad46629f4e1e43764fb3b3985ba20b"


@dataclass
class BaselineDeployed:
    """A target running the baseline release, with one report on it."""

    target: Target
    inventory: Path
    host: testinfra.host.Host
    release: str
    marker: bytes


def baseline_source(workdir: Path) -> Path:
    """The baseline commit's source tree, from this repository's history."""
    folder = workdir / "baseline-source"
    if not folder.exists():
        folder.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", BASELINE], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def _deploy_baseline(lab: Lab, operator: Operator) -> BaselineDeployed:
    target = lab.boot("upgrade1")
    host = host_of(lab, target)
    inventory = operator.inventory(target)
    old = baseline_source(operator.workdir)
    operator.converge(
        inventory, label="deploy the baseline commit", seethesigns_source_dir=str(old)
    )
    marker = b"Upgrade test: they took my phone and gave me a new one."
    with tunnel(target, 8080) as source_url:
        make_report(source_url, marker.decode())
    release = host.check_output("readlink /opt/seethesigns/current")
    return BaselineDeployed(target, inventory, host, release, marker)


@pytest.fixture(scope="session")
def baseline_deployed(lab: Lab, operator: Operator) -> Iterator[Future[BaselineDeployed]]:
    """The baseline release deployed on its own target, in the background from the start.

    The upgrade test needs it; deploying it while the other tests use their own target keeps
    the deployment tests' wall time down on two cores.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool.submit(_deploy_baseline, lab, operator)


@pytest.fixture(scope="session", autouse=True)
def _start_baseline_early(request: pytest.FixtureRequest) -> None:
    """Start the baseline deployment as soon as any deployment test runs."""
    if any("upgrade" in item.name for item in request.session.items):
        request.getfixturevalue("baseline_deployed")


@pytest.fixture(scope="session")
def exposure_scores() -> dict[str, float]:
    """Where tests put each unit's systemd-analyze security score, for the summary."""
    return SCORES


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    """The bridge, the apt proxy, and whatever targets the tests boot."""
    if os.geteuid() != 0:
        pytest.fail("the deployment tests need root (network namespaces, systemd-nspawn)")
    workdir = short_tmpdir("stsdeploy")
    lab = Lab(workdir)
    lab.start()
    yield lab
    lab.stop()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def operator(lab: Lab) -> Iterator[Operator]:
    """Offline submission and backup keys made with real GnuPG, as on the workstation."""
    home = lab.workdir / "operator"
    keys = short_tmpdir("stsop")
    yield Operator(
        home,
        make_offline_key(keys / "submission", "Test Submission Key"),
        make_offline_key(keys / "backup", "Test Backup Key"),
        before_play=lab.ensure_proxy,
    )
    for name in ("submission", "backup"):
        subprocess.run(["gpgconf", "--homedir", str(keys / name), "--kill", "all"], check=False)
    shutil.rmtree(keys, ignore_errors=True)


@dataclass
class Deployed:
    """A target after its first converge."""

    target: Target
    inventory: Path
    first_run: PlaybookRun
    host: testinfra.host.Host

    @property
    def credentials(self) -> dict[str, str]:
        return credentials_of(self.inventory, self.target)


@pytest.fixture(scope="session")
def deployed(lab: Lab, operator: Operator) -> Iterator[Deployed]:
    """A fresh Debian 12 target with the playbook run once."""
    target = lab.boot("site1")
    inventory = operator.inventory(target)
    run = operator.converge(inventory, label="first deploy")
    yield Deployed(target, inventory, run, host_of(lab, target))


def host_of(lab: Lab, target: Target) -> testinfra.host.Host:
    """A testinfra host for a target, over ssh."""
    return testinfra.get_host(
        f"ssh://root@{target.address}",
        ssh_identity_file=str(lab.ssh_key),
        ssh_extra_args="-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
    )


def credentials_of(inventory: Path, target: Target) -> dict[str, str]:
    """The first admin's passphrase and TOTP secret, as the playbook saved them."""
    folder = inventory / "credentials" / target.name
    return dict(json.loads((folder / "first-admin.json").read_text()))


@contextmanager
def tunnel(target: Target, remote_port: int) -> Iterator[str]:
    """An ssh tunnel: connections made inside the target, from its sshd to 127.0.0.1:PORT."""
    from tests.integration.conftest import free_port

    local = free_port()
    command = target.ssh_command("")[:-1]
    command[1:1] = ["-N", "-L", f"127.0.0.1:{local}:127.0.0.1:{remote_port}"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{local}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(url + "/", timeout=5, allow_redirects=False)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def csrf(html: str) -> str:
    """The CSRF token in a page."""
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def make_report(source_url: str, message: str) -> str:
    """A young person's report through the source interface; returns the codename."""
    http = requests.Session()
    page = http.get(source_url + "/generate", timeout=60).text
    codename = CODENAME.search(page)
    assert codename, page[:2000]
    # Releases from before the type-back step (the baseline) do not ask for two words.
    form = create_form(page, typed_back=ASKED_WORD.search(page) is not None)
    created = http.post(source_url + "/create", data=form, allow_redirects=False, timeout=60)
    assert created.status_code == 302, created.text[:2000]
    page = http.get(source_url + "/lookup", timeout=60).text
    sent = http.post(
        source_url + "/submit",
        data={"csrf_token": csrf(page), "msg": message},
        allow_redirects=False,
        timeout=60,
    )
    assert sent.status_code == 302, sent.text[:2000]
    return codename.group(1)


def staff_token(staff_url: str, credentials: dict[str, str]) -> str:
    """A Journalist API token for the first admin, waiting for a fresh TOTP step if needed.

    A first admin made by this release is pending until its first login (issue 13): that is
    done over the web first, and `credentials` then hold the passphrase and secret chosen.
    """
    for _ in range(3):
        step = int(time.time() // 30)
        response = requests.post(
            staff_url + "/api/v1/token",
            json={
                "username": credentials["username"],
                "passphrase": credentials["passphrase"],
                "one_time_code": pyotp.TOTP(credentials["totp_secret"]).at(step * 30),
            },
            timeout=60,
        )
        if response.status_code == 200:
            return str(response.json()["token"])
        if response.status_code == 403 and "first login" in response.json().get("message", ""):
            credentials.update(first_login_over_http(staff_url, credentials, used={step}))
        # Each code works once: wait for the next time step and try again.
        time.sleep(31 - time.time() % 30)
    raise AssertionError(f"staff login failed: {response.status_code} {response.text}")


def downloaded_messages(staff_url: str, token: str) -> list[bytes]:
    """Every submission on the instance, downloaded through the staff API as stored."""
    headers = {"Authorization": f"Token {token}"}
    found = requests.get(staff_url + "/api/v1/submissions", headers=headers, timeout=60)
    assert found.status_code == 200, found.text
    blobs = []
    for item in found.json()["submissions"]:
        blob = requests.get(
            staff_url + item["download_url"],
            headers=headers,
            timeout=60,
        )
        assert blob.status_code == 200, blob.text
        blobs.append(blob.content)
    return blobs
