"""Real Debian 12 servers on this machine for the deployment tests.

Each target is a debootstrapped Debian 12 root filesystem booted with systemd-nspawn (systemd
as its PID 1) in a network namespace of its own, joined to a bridge that this run creates on a
small private subnet. A target has no default route: it reaches Debian's archive only through
a tinyproxy on the bridge whose filter allows just the hosts in this machine's own apt sources,
read at run time (../shared/notes/debian-test-target.md has the measurements behind this).

`python -m tests.deploy.lab up N` boots N targets by hand and prints how to reach them;
`python -m tests.deploy.lab down` removes everything an earlier run left.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

CACHE = Path(os.environ.get("SEETHESIGNS_DEPLOY_CACHE", "/var/cache/seethesigns-deploy"))
RUN_DIR = Path("/run/seethesigns-deploy-lab")
BRIDGE = "sts-lab0"
PREFIX = "10.213.77"
BRIDGE_ADDRESS = f"{PREFIX}.1"
PROXY_PORT = 3128
SUITE = "bookworm"
INCLUDE = (
    "systemd,systemd-sysv,dbus,python3,python3-apt,openssh-server,iproute2,ca-certificates,"
    "sudo,locales"
)
HOST_PACKAGES = {
    "debootstrap": "debootstrap",
    "systemd-nspawn": "systemd-container",
    "tinyproxy": "tinyproxy-bin",
    "zstd": "zstd",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
}
SSH_OPTIONS = (
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "LogLevel=ERROR",
    "-o",
    "BatchMode=yes",
    "-o",
    "ConnectTimeout=5",
)


class LabError(Exception):
    """The lab could not be set up on this machine."""


def run(args: Sequence[str], *, check: bool = True, quiet: bool = False) -> str:
    """Run a host command and return its standard output."""
    result = subprocess.run(list(args), capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise LabError(f"{shlex.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
    if not quiet and result.returncode != 0:
        print(f"lab: {shlex.join(args)}: {result.stderr.strip()}", file=sys.stderr)
    return result.stdout


def missing_host_packages() -> list[str]:
    """Debian packages the lab needs that this machine does not have."""
    return sorted({pkg for tool, pkg in HOST_PACKAGES.items() if shutil.which(tool) is None})


def ensure_host_packages() -> None:
    """Install the lab's Debian packages where they are missing (CI runs as root)."""
    missing = missing_host_packages()
    if not missing:
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env, capture_output=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing],
        check=True,
        env=env,
        capture_output=True,
    )


def apt_sources() -> tuple[list[str], list[str]]:
    """The URIs of this machine's enabled Debian apt sources, and the hosts they name."""
    uris: list[str] = []
    for path in [Path("/etc/apt/sources.list"), *Path("/etc/apt/sources.list.d").glob("*")]:
        if not path.is_file() or not path.name.endswith((".list", ".sources")):
            continue
        text = path.read_text()
        uris += re.findall(r"^URIs:\s*(\S+)", text, re.MULTILINE)
        uris += re.findall(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)", text, re.MULTILINE)
    uris = [uri for uri in uris if uri.startswith(("http://", "https://"))]
    hosts = sorted({re.sub(r"^https?://([^/:]+).*$", r"\1", uri) for uri in uris})
    if not hosts:
        raise LabError("this machine has no http apt sources to copy into the targets")
    return uris, hosts


def rootfs_tarball() -> Path:
    """A zstd tarball of a fresh Debian 12 root filesystem, built once and cached."""
    digest = hashlib.sha256(f"{SUITE}:{INCLUDE}".encode()).hexdigest()[:12]
    tarball = CACHE / f"{SUITE}-{digest}.tar.zst"
    if tarball.exists():
        return tarball
    CACHE.mkdir(parents=True, exist_ok=True)
    build = CACHE / f"build-{digest}"
    shutil.rmtree(build, ignore_errors=True)
    uris, _ = apt_sources()
    mirror = next((uri for uri in uris if "security" not in uri), uris[0])
    run(["debootstrap", "--variant=minbase", f"--include={INCLUDE}", SUITE, str(build), mirror])
    partial = tarball.with_suffix(".partial")
    run(["tar", "--zstd", "-C", str(build), "-cpf", str(partial), "."])
    partial.rename(tarball)
    shutil.rmtree(build, ignore_errors=True)
    return tarball


def teardown_network() -> None:
    """Remove the bridge, the targets' namespaces and the proxy an earlier run left."""
    pidfile = RUN_DIR / "tinyproxy.pid"
    if pidfile.exists():
        with contextlib.suppress(ValueError, ProcessLookupError):
            os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
        # Gone with its process: a later run must not signal whatever reuses that number.
        pidfile.unlink(missing_ok=True)
    # Targets an earlier run left booted (their nspawn joined one of our namespaces).
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv[0].endswith(b"systemd-nspawn") and any(
            arg.startswith(b"--network-namespace-path=/run/netns/sts-t") for arg in argv
        ):
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(proc.name), signal.SIGKILL)
    for line in run(["ip", "-o", "link", "show"], check=False).splitlines():
        link = line.split(":")[1].strip().split("@")[0] if ":" in line else ""
        if link.startswith("sts-v"):
            run(["ip", "link", "delete", link], check=False, quiet=True)
    for name in run(["ip", "netns", "list"], check=False).split("\n"):
        name = name.split(" ")[0]
        if name.startswith("sts-t"):
            run(["ip", "netns", "delete", name], check=False, quiet=True)
    run(["ip", "link", "delete", BRIDGE], check=False, quiet=True)


@dataclass
class Lab:
    """The bridge, the filtered apt proxy, and the targets booted on them."""

    workdir: Path
    targets: list[Target] = field(default_factory=list)
    proxy: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.ssh_key = self.workdir / "id_ed25519"
        self._booting = threading.Lock()

    def start(self) -> None:
        """Build (or reuse) the root filesystem, then set up the bridge, proxy and ssh key."""
        ensure_host_packages()
        self.tarball = rootfs_tarball()
        teardown_network()
        RUN_DIR.mkdir(parents=True, exist_ok=True)
        run(["ip", "link", "add", BRIDGE, "type", "bridge"])
        run(["ip", "addr", "add", f"{BRIDGE_ADDRESS}/24", "dev", BRIDGE])
        run(["ip", "link", "set", BRIDGE, "up"])
        self._start_proxy()
        self.ensure_proxy()
        if not self.ssh_key.exists():
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.ssh_key)])

    def _start_proxy(self) -> None:
        _, hosts = apt_sources()
        allow = self.workdir / "proxy-allow"
        allow.write_text("".join(f"^{re.escape(host)}$\n" for host in hosts))
        conf = self.workdir / "tinyproxy.conf"
        conf.write_text(
            f"Port {PROXY_PORT}\nListen {BRIDGE_ADDRESS}\nTimeout 120\nMaxClients 50\n"
            f'Filter "{allow}"\nFilterExtended On\nFilterDefaultDeny Yes\n'
            f'FilterURLs Off\nPidFile "{RUN_DIR}/tinyproxy.pid"\nLogLevel Critical\n'
            f"Allow {PREFIX}.0/24\n"
        )
        # The child keeps its own copy of the descriptor; this one closes at once.
        with (self.workdir / "tinyproxy.err").open("ab") as errors:
            self.proxy = subprocess.Popen(
                ["tinyproxy", "-d", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=errors
            )
        (RUN_DIR / "tinyproxy.pid").write_text(str(self.proxy.pid))

    def ensure_proxy(self) -> None:
        """Have the apt proxy answering before a playbook needs it, restarting it if it stopped.

        A CI run once found nothing listening on the proxy's port ("connection refused" for
        every package), and a dead proxy fails every deployment at its first package.
        """
        with self._booting:
            for _ in range(3):
                if self.proxy is None or self.proxy.poll() is not None:
                    self._start_proxy()
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    with contextlib.suppress(OSError):
                        socket.create_connection((BRIDGE_ADDRESS, PROXY_PORT), timeout=2).close()
                        return
                    if self.proxy is not None and self.proxy.poll() is not None:
                        break
                    time.sleep(0.2)
                if self.proxy is not None and self.proxy.poll() is None:
                    self.proxy.terminate()
                    self.proxy.wait(timeout=10)
            errors = (self.workdir / "tinyproxy.err").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the lab's apt proxy does not answer: {errors}")

    def boot(self, name: str) -> Target:
        """Boot one fresh Debian 12 target and wait until ssh answers."""
        self.ensure_proxy()
        with self._booting:
            target = Target(self, name, len(self.targets) + 1)
            self.targets.append(target)
            target.boot()
        return target

    def stop(self) -> None:
        """Shut every target down, then remove the network and the proxy."""
        for target in self.targets:
            target.shutdown()
        if self.proxy is not None:
            self.proxy.terminate()
            self.proxy.wait(timeout=10)
        teardown_network()


@dataclass
class Target:
    """One Debian 12 system with systemd, reachable over ssh from this machine."""

    lab: Lab
    name: str
    index: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"{PREFIX}.{10 + self.index}"

    @property
    def netns(self) -> str:
        return f"sts-t{self.index}"

    @property
    def root(self) -> Path:
        return self.lab.workdir / "targets" / self.name

    def boot(self) -> None:
        """Unpack the root filesystem, wire the network, and boot systemd with nspawn."""
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True)
        run(["tar", "--zstd", "-C", str(self.root), "-xpf", str(self.lab.tarball)])
        self._prepare_root()
        veth, peer = f"sts-v{self.index}", f"sts-p{self.index}"
        run(["ip", "netns", "add", self.netns])
        run(["ip", "link", "add", veth, "type", "veth", "peer", "name", peer])
        run(["ip", "link", "set", veth, "master", BRIDGE, "up"])
        run(["ip", "link", "set", peer, "netns", self.netns])
        inside = ["ip", "netns", "exec", self.netns, "ip"]
        run([*inside, "link", "set", peer, "name", "host0"])
        run([*inside, "addr", "add", f"{self.address}/24", "dev", "host0"])
        run([*inside, "link", "set", "host0", "up"])
        run([*inside, "link", "set", "lo", "up"])
        self.log = self.lab.workdir / f"{self.name}.console.log"
        self.console = self.log.open("wb")
        self.process = subprocess.Popen(
            [
                "systemd-nspawn",
                "-D",
                str(self.root),
                "-M",
                self.name,
                "--register=no",
                "--keep-unit",
                "--private-network",
                f"--network-namespace-path=/run/netns/{self.netns}",
                "--resolv-conf=off",
                "--timezone=off",
                "-b",
            ],
            stdin=subprocess.DEVNULL,
            stdout=self.console,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_for_ssh()

    def _prepare_root(self) -> None:
        root = self.root
        (root / "etc/hostname").write_text(f"{self.name}\n")
        (root / "etc/hosts").write_text(f"127.0.0.1 localhost\n127.0.1.1 {self.name}\n")
        ssh_dir = root / "root/.ssh"
        ssh_dir.mkdir(mode=0o700, exist_ok=True)
        (ssh_dir / "authorized_keys").write_text(self.lab.ssh_key.with_suffix(".pub").read_text())
        (ssh_dir / "authorized_keys").chmod(0o600)
        proxy = f"http://{BRIDGE_ADDRESS}:{PROXY_PORT}"
        (root / "etc/apt/apt.conf.d/90lab-proxy").write_text(
            f'Acquire::http::Proxy "{proxy}";\nAcquire::https::Proxy "{proxy}";\n'
        )
        # debootstrap's own sources.list would repeat the host's deb822 sources.
        (root / "etc/apt/sources.list").unlink(missing_ok=True)
        for sources in (Path("/etc/apt/sources.list"), Path("/etc/apt/sources.list.d")):
            destination = root / sources.relative_to("/")
            if sources.is_file():
                shutil.copy(sources, destination)
            elif sources.is_dir():
                for item in sources.glob("*.sources"):
                    shutil.copy(item, destination / item.name)
        # A nameserver nobody answers: names resolve through the proxy, never from the target.
        resolv = root / "etc/resolv.conf"
        resolv.unlink(missing_ok=True)
        resolv.write_text("nameserver 127.0.0.1\n")
        # debootstrap left one set of host keys in the tarball; each target gets its own.
        for key in (root / "etc/ssh").glob("ssh_host_*"):
            key.unlink()
        run(["ssh-keygen", "-A", "-f", str(root)])

    def _wait_for_ssh(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise LabError(f"{self.name} stopped while booting; see {self.log}")
            result = subprocess.run(
                self.ssh_command("systemctl is-system-running --wait"),
                capture_output=True,
                text=True,
                check=False,
            )
            if result.stdout.strip() in {"running", "degraded"}:
                return
            time.sleep(0.5)
        raise LabError(f"{self.name} did not answer ssh within {timeout} s; see {self.log}")

    def ssh_command(self, command: str) -> list[str]:
        """The ssh invocation that runs a shell command on the target as root."""
        return [
            "ssh",
            *SSH_OPTIONS,
            "-i",
            str(self.lab.ssh_key),
            f"root@{self.address}",
            command,
        ]

    def run(self, command: str, *, check: bool = True, timeout: float = 300) -> str:
        """Run a shell command on the target and return its standard output."""
        result = subprocess.run(
            self.ssh_command(command), capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and result.returncode != 0:
            raise LabError(
                f"on {self.name}: {command} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result.stdout

    def inventory_line(self) -> str:
        """This target as a line of an Ansible INI inventory."""
        return (
            f"{self.name} ansible_host={self.address} ansible_user=root "
            f"ansible_ssh_private_key_file={self.lab.ssh_key} "
            "ansible_python_interpreter=/usr/bin/python3 "
            "ansible_ssh_common_args='-o StrictHostKeyChecking=no "
            "-o UserKnownHostsFile=/dev/null'"
        )

    def shutdown(self) -> None:
        """Stop the target in order (SIGTERM to nspawn halts its systemd)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if self.process is not None:
            self.console.close()


def main(argv: Sequence[str]) -> int:
    """Bring targets up by hand for debugging, or clean up after a run."""
    if argv[:1] == ["down"]:
        teardown_network()
        return 0
    count = int(argv[1]) if len(argv) > 1 else 1
    workdir = Path(os.environ.get("LAB_DIR", "/tmp/seethesigns-lab"))
    workdir.mkdir(parents=True, exist_ok=True)
    lab = Lab(workdir)
    lab.start()
    for number in range(1, count + 1):
        target = lab.boot(f"target{number}")
        print(shlex.join(target.ssh_command("")))
    print("Ctrl-C to stop")
    try:
        signal.pause()
    finally:
        lab.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
