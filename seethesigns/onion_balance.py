"""One source onion address for several app servers, with Onionbalance v3 (issue 15).

The frontend's identity is kept like the other onion keys: a 32-byte seed in [tor] keys_dir
(frontend.ed25519, 0600). Onionbalance, run on its own machine against its own tor, fetches
each backend's descriptor and publishes one descriptor under the frontend key that lists the
backends' introduction points; sources reach whichever backend's point their tor picks.

A backend must know the frontend address, or it cannot decrypt what clients send it: tor
reads it from an `ob_config` file in a HiddenServiceDir. ADD_ONION has no such option (tor
0.4.8 and 0.4.9 take Port, Flags, MaxStreams, ClientAuth(V3) and the PoW options only), so a
backend's source service is configured in its torrc, not published by `onion up`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from seethesigns.onion import MAX_STREAMS, VIRTUAL_PORT, OnionError, OnionKeys, ServiceKey
from seethesigns.settings import TorSettings
from seethesigns.storage import write_private_atomically

log = logging.getLogger("seethesigns.onion")

FRONTEND = "frontend"
ADDRESS = re.compile(r"^[a-z2-7]{56}$")


class BalanceError(OnionError):
    """Onionbalance cannot be set up or run: a bad backend address, or no onionbalance."""


def v3_address(text: str) -> str:
    """A v3 onion address, without ".onion", checked (rend-spec-v3 section 6); else raise."""
    address = text.strip().lower().removesuffix(".onion")
    if not ADDRESS.fullmatch(address):
        raise BalanceError(f"{text!r} is not a v3 onion address (56 characters a-z, 2-7)")
    raw = base64.b32decode(address.upper())
    public, checksum, version = raw[:32], raw[32:34], raw[34:]
    expected = hashlib.sha3_256(b".onion checksum" + public + b"\x03").digest()[:2]
    if version != b"\x03" or checksum != expected:
        raise BalanceError(f"{text!r} is not a v3 onion address (its checksum is wrong)")
    return address


def frontend_key(keys: OnionKeys) -> ServiceKey:
    """The frontend's identity, created on first use beside the other onion keys."""
    return keys.service_key(FRONTEND)


def frontend_pem(key: ServiceKey) -> bytes:
    """The frontend key as onionbalance reads it (PKCS#8 PEM, unencrypted)."""
    private = Ed25519PrivateKey.from_private_bytes(key.seed)
    return private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


def onionbalance_config(key_file: Path, backends: Sequence[str]) -> str:
    """onionbalance's config.yaml for one frontend over these backends.

    Written as JSON, which is YAML too: nothing here needs a YAML library.
    """
    instances = [
        {"address": f"{address}.onion", "name": f"backend{i}"} for i, address in enumerate(backends)
    ]
    return json.dumps({"services": [{"key": str(key_file), "instances": instances}]}, indent=2)


def write_onionbalance_files(keys: OnionKeys, backends: Sequence[str]) -> Path:
    """Write keys_dir/onionbalance/{frontend.pem,config.yaml} (0600) and return the config.

    The PEM is a second copy of the frontend seed, remade from it on every start.
    """
    addresses = [v3_address(backend) for backend in backends]
    if not addresses:
        raise BalanceError("give at least one backend onion address")
    if len(set(addresses)) != len(addresses):
        raise BalanceError("a backend address is given twice")
    key = frontend_key(keys)
    if key.address in addresses:
        raise BalanceError("the frontend address cannot also be a backend")
    directory = keys.directory / "onionbalance"
    directory.mkdir(mode=0o700, exist_ok=True)
    directory.chmod(0o700)
    write_private_atomically(directory / "frontend.pem", frontend_pem(key))
    config = directory / "config.yaml"
    write_private_atomically(
        config, onionbalance_config(directory / "frontend.pem", addresses).encode()
    )
    return config


def write_backend_config(service_dir: Path, frontend: str) -> Path:
    """Make a backend's HiddenServiceDir (0700) with the ob_config naming the frontend."""
    service_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    service_dir.chmod(0o700)
    path = service_dir / "ob_config"
    write_private_atomically(path, f"MasterOnionAddress {v3_address(frontend)}.onion\n".encode())
    return path


def backend_torrc(service_dir: Path, target: str, settings: TorSettings) -> list[str]:
    """The torrc lines for a backend's source service: what ADD_ONION would have set, on disk.

    tor makes the backend's own key in service_dir on first start and writes its address to
    service_dir/hostname: that address is what the frontend lists.
    """
    return [
        f"HiddenServiceDir {service_dir}",
        f"HiddenServicePort {VIRTUAL_PORT} {target}",
        "HiddenServiceOnionBalanceInstance 1",
        f"HiddenServiceMaxStreams {MAX_STREAMS}",
        "HiddenServiceMaxStreamsCloseCircuit 1",
        "HiddenServicePoWDefensesEnabled 1",
        f"HiddenServicePoWQueueRate {settings.pow_queue_rate}",
        f"HiddenServicePoWQueueBurst {settings.pow_queue_burst}",
    ]


def onionbalance_command(config: Path, settings: TorSettings, *, testnet: bool) -> list[str]:
    """How to run onionbalance against the [tor] control port or socket (cookie auth)."""
    beside = Path(sys.executable).with_name("onionbalance")
    program = str(beside) if beside.exists() else shutil.which("onionbalance")
    if program is None:
        raise BalanceError(
            "onionbalance is not installed: `pip install seethesigns[onionbalance]`, or "
            "Debian's onionbalance package"
        )
    # An empty socket makes onionbalance use the port (its default socket is Debian's).
    if settings.control_port is not None:
        where = ["--ip", "127.0.0.1", "--port", str(settings.control_port), "--socket", ""]
    else:
        where = ["--socket", str(settings.control_socket)]
    command = [program, "--config", str(config), *where, "--verbosity", "info"]
    # onionbalance's test-network timing assumes chutney's 20-second voting interval.
    return [*command, "--is-testnet"] if testnet else command


def supervise(command: Sequence[str], stop: threading.Event, retry_seconds: float = 5.0) -> None:
    """Run command until stop is set, starting it again whenever it exits on its own."""
    while not stop.is_set():
        process = subprocess.Popen(command)
        while process.poll() is None:
            if stop.wait(0.5):
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                return
        log.warning(
            "onionbalance exited with %s; starting it again in %.0f s",
            process.returncode,
            retry_seconds,
        )
        stop.wait(retry_seconds)
