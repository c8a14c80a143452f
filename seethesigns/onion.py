"""The onion services of both interfaces: keys, staff client keys, and publishing through tor.

This is the only module that talks to tor (through stem). Keys live in [tor] keys_dir: each
service's ED25519-V3 identity (so addresses survive restarts) and the staff devices' public
x25519 keys; their private halves are printed once and never stored here.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import logging
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import stem
import stem.connection
import stem.version
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from stem.control import Controller, EventType

from seethesigns.settings import TorSettings
from seethesigns.storage import write_private_atomically

log = logging.getLogger(__name__)

SOURCE = "source"
JOURNALIST = "journalist"
VIRTUAL_PORT = 80
# ADD_ONION learnt PoWDefensesEnabled, PoWQueueRate and PoWQueueBurst in tor 0.4.9.2-alpha.
MINIMUM_TOR = stem.version.Version("0.4.9.2-alpha")
# Streams one rendezvous circuit may hold at once; more closes the circuit. A page needs a few.
# They end at the nginx front, which must hold far more (seethesigns/front/nginx.py checks).
MAX_STREAMS = 20
NO_STAFF_DEVICE = (
    "no staff device is authorised yet; add one with `seethesigns onion add-client NAME`"
)
CLIENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
CLIENT_KEY = re.compile(r"^[A-Z2-7]{52}$")
# A whole .auth_private line: what the device keeps, never what the server is given.
AUTH_PRIVATE_LINE = re.compile(r"[a-z2-7]{56}(\.onion)?:descriptor:x25519:\S*", re.IGNORECASE)


class OnionError(Exception):
    """The onion services could not be set up, changed or checked."""


class TorUnavailable(OnionError):
    """tor's control port or socket cannot be reached (tor down or restarting)."""


class TorAuthenticationFailed(OnionError):
    """tor does not offer cookie authentication, or refused ours."""


class TorTooOld(OnionError):
    """tor is older than 0.4.9.2, whose ADD_ONION takes the proof-of-work options."""


class PublicationFailed(OnionError):
    """tor refused a service, or did not upload its descriptor in time."""


class KeyFileError(OnionError):
    """A key file is unreadable, malformed, or readable by other users."""


class ClientKeyError(OnionError):
    """A staff device name is invalid, already authorised, or unknown."""


def _b32(raw: bytes) -> str:
    return base64.b32encode(raw).decode("ascii").rstrip("=")


@dataclass(frozen=True, repr=False)
class ServiceKey:
    """An onion service's ED25519-V3 identity, kept as its 32-byte seed; repr hides it."""

    seed: bytes

    @property
    def address(self) -> str:
        """The 56-character v3 address, without ".onion" (rend-spec-v3 section 6)."""
        public = Ed25519PrivateKey.from_private_bytes(self.seed).public_key().public_bytes_raw()
        checksum = hashlib.sha3_256(b".onion checksum" + public + b"\x03").digest()[:2]
        return _b32(public + checksum + b"\x03").lower()

    def tor_key(self) -> str:
        """The key as ADD_ONION takes it: the expanded secret key, base64."""
        expanded = bytearray(hashlib.sha512(self.seed).digest())
        expanded[0] &= 248
        expanded[31] &= 127
        expanded[31] |= 64
        return "ED25519-V3:" + base64.b64encode(bytes(expanded)).decode("ascii")

    def __repr__(self) -> str:
        return f"ServiceKey({self.address}.onion)"


def auth_private_line(address: str, private_key: bytes) -> str:
    """A staff device's key in Tor Browser's .auth_private format."""
    return f"{address}:descriptor:x25519:{_b32(private_key)}"


def client_public_key(text: str) -> str:
    """A staff device's x25519 public key as tor writes it: 52 base32 characters, alone or as
    an authorized_clients line (`descriptor:x25519:KEY`). Anything else raises ClientKeyError.
    """
    if AUTH_PRIVATE_LINE.fullmatch(text):
        raise ClientKeyError(
            "that is a device's .auth_private line, which holds its PRIVATE key: keep it on "
            "the device and give only the public key"
        )
    key = text.removeprefix("descriptor:x25519:")
    if not CLIENT_KEY.fullmatch(key):
        raise ClientKeyError(
            "a public key is 52 base32 characters (A-Z, 2-7), alone or after 'descriptor:x25519:'"
        )
    raw = base64.b32decode(key + "====")
    if _b32(raw) != key:  # the last character's spare bits are not zero
        raise ClientKeyError("the public key is not a canonical base32 encoding of 32 bytes")
    try:
        # A low-order point gives every device the same all-zero secret; OpenSSL refuses it.
        X25519PrivateKey.generate().exchange(X25519PublicKey.from_public_bytes(raw))
    except ValueError:
        raise ClientKeyError("the public key is not a usable x25519 key (low order)") from None
    return key


def clients_digest(clients: Mapping[str, str]) -> str:
    """A digest of the authorised (name, public key) pairs, as a publisher records them.

    Names alone are not enough: a device revoked and re-added under the same name with a new
    key within one poll left the set of names unchanged, and tor kept accepting the old key.
    """
    return hashlib.sha256(json.dumps(sorted(clients.items())).encode()).hexdigest()


def publishes_clients(record: Mapping[str, Any], clients: Mapping[str, str]) -> bool:
    """Whether a publisher's record of the staff service is for exactly these devices' keys."""
    return record.get("clients_digest") == clients_digest(clients)


class OnionKeys:
    """The keys directory: service identities, staff client keys, and what was published."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @property
    def clients_path(self) -> Path:
        """Staff devices' public keys, by name: the file a running `onion up` watches."""
        return self.directory / "staff_clients.json"

    def published_path(self, service: str) -> Path:
        """What the publisher of service last published (one file each: `serve --onion`
        runs one publisher per interface)."""
        return self.directory / f"published-{service}.json"

    def _ensure_directory(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.directory.chmod(0o700)

    def _read(self, path: Path) -> bytes:
        try:
            mode = path.stat().st_mode
            if mode & 0o077:
                raise KeyFileError(f"{path} is readable by other users; run: chmod 600 {path}")
            return path.read_bytes()
        except OSError as exc:
            raise KeyFileError(f"cannot read {path}: {exc.strerror}") from None

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise read-modify-write of the clients file between commands."""
        self._ensure_directory()
        fd = os.open(self.directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def service_key(self, service: str) -> ServiceKey:
        """The service's identity key, created on first use."""
        path = self.directory / f"{service}.ed25519"
        with self._locked():
            if not path.exists():
                write_private_atomically(path, secrets.token_bytes(32))
            seed = self._read(path)
        if len(seed) != 32:
            raise KeyFileError(f"{path} is not a 32-byte ed25519 seed")
        return ServiceKey(seed)

    def clients(self) -> dict[str, str]:
        """Authorised staff devices: name -> base32 x25519 public key."""
        if not self.clients_path.exists():
            return {}
        try:
            found = json.loads(self._read(self.clients_path))
        except ValueError:
            raise KeyFileError(f"{self.clients_path} is not valid JSON") from None
        if not isinstance(found, dict) or not all(
            isinstance(key, str) and CLIENT_KEY.match(key) for key in found.values()
        ):
            raise KeyFileError(f"{self.clients_path} does not map names to x25519 keys")
        return found

    def _save_clients(self, clients: dict[str, str]) -> None:
        write_private_atomically(
            self.clients_path, json.dumps(clients, indent=2, sort_keys=True).encode()
        )

    def add_client(self, name: str) -> str:
        """Authorise a new staff device; return its private key as an .auth_private line."""
        address = self.service_key(JOURNALIST).address
        private = X25519PrivateKey.generate()
        self.add_client_key(name, _b32(private.public_key().public_bytes_raw()))
        return auth_private_line(address, private.private_bytes_raw())

    def add_client_key(self, name: str, public_key: str) -> None:
        """Authorise a staff device that made its own keypair, by its public key."""
        if not CLIENT_NAME.fullmatch(name):
            raise ClientKeyError(
                f"{name!r} is not a valid device name (letters, digits, '.', '_', '-'; up to 64)"
            )
        key = client_public_key(public_key)
        with self._locked():
            clients = self.clients()
            if name in clients:
                raise ClientKeyError(f"{name!r} is already authorised; revoke it first")
            holder = next((other for other, known in clients.items() if known == key), None)
            if holder is not None:
                raise ClientKeyError(f"that key is already authorised, as {holder!r}")
            clients[name] = key
            self._save_clients(clients)

    def revoke_client(self, name: str) -> None:
        """Remove a staff device's key; a running publisher republishes without it."""
        with self._locked():
            clients = self.clients()
            if name not in clients:
                raise ClientKeyError(f"no staff device named {name!r} is authorised")
            del clients[name]
            self._save_clients(clients)

    def record_publication(self, service: str, record: dict[str, Any]) -> None:
        """Note what this process has published of service (read by `status`, client commands)."""
        self._ensure_directory()
        data = json.dumps({"pid": os.getpid(), **record}, indent=2).encode()
        write_private_atomically(self.published_path(service), data)

    def publication(self) -> dict[str, dict[str, Any]]:
        """What still-running publishers have published, by service."""
        found = {}
        for service in (SOURCE, JOURNALIST):
            try:
                record = json.loads(self.published_path(service).read_bytes())
                os.kill(int(record["pid"]), 0)
            except PermissionError:
                pass  # a publisher running as another user: still running
            except (OSError, ValueError, KeyError, TypeError):
                continue
            found[service] = record
        return found


@dataclass(frozen=True)
class OnionService:
    """One service to publish: which interface, and the local address port 80 leads to."""

    name: str
    target: str

    @property
    def client_auth(self) -> bool:
        """Only authorised staff devices can even fetch the staff service's descriptor."""
        return self.name == JOURNALIST


def onion_target(settings: TorSettings, service: str) -> str:
    """Where the service's port 80 leads: 127.0.0.1:[tor] source_port or journalist_port."""
    port = settings.source_port if service == SOURCE else settings.journalist_port
    return f"127.0.0.1:{port}"


def publication_record(
    address: str, service: OnionService, clients: Mapping[str, str]
) -> dict[str, Any]:
    """What a publisher records of a service as it publishes it; uploaded_at is set once done.

    The staff service's record names its devices and the digest of their keys, which the
    publisher, `status` and the client commands compare with the clients file.
    """
    return {
        "address": address,
        "target": service.target,
        "uploaded_at": None,
        "clients": sorted(clients) if service.client_auth else None,
        "clients_digest": clients_digest(clients) if service.client_auth else None,
    }


def services_from_settings(settings: TorSettings) -> list[OnionService]:
    """Both services, forwarding to their local ports ([tor] source_port, journalist_port)."""
    return [OnionService(name, onion_target(settings, name)) for name in (SOURCE, JOURNALIST)]


def _quiet_stem() -> None:
    # stem traces every control message it sends, ADD_ONION's private key included.
    logging.getLogger("stem").setLevel(logging.WARNING)


@contextmanager
def tor_controller(settings: TorSettings) -> Iterator[Controller]:
    """An authenticated control connection to tor, closed on exit."""
    _quiet_stem()
    where = (
        f"127.0.0.1:{settings.control_port}"
        if settings.control_port is not None
        else str(settings.control_socket)
    )
    try:
        # stem leaks its socket when the connection is refused: probe with one we close.
        if settings.control_port is not None:
            socket.create_connection(("127.0.0.1", settings.control_port), timeout=5).close()
            controller = Controller.from_port("127.0.0.1", settings.control_port)
        else:
            with socket.socket(socket.AF_UNIX) as probe:
                probe.connect(str(settings.control_socket))
            controller = Controller.from_socket_file(str(settings.control_socket))
    except (OSError, stem.SocketError) as exc:
        raise TorUnavailable(f"cannot reach tor's control port at {where}: {exc}") from None
    try:
        _authenticate(controller, where)
        version = controller.get_version()
        if version < MINIMUM_TOR:
            raise TorTooOld(f"tor {version} is too old: proof-of-work needs {MINIMUM_TOR}+")
        yield controller
    except (stem.SocketClosed, stem.SocketError) as exc:
        raise TorUnavailable(f"lost tor's control connection at {where}: {exc}") from None
    finally:
        controller.close()


def _authenticate(controller: Controller, where: str) -> None:
    """Cookie authentication only: an open control port would let any local user take the keys."""
    AuthMethod = stem.connection.AuthMethod
    try:
        info = stem.connection.get_protocolinfo(controller)
        methods = set(info.auth_methods)
        if AuthMethod.NONE in methods or not methods & {AuthMethod.COOKIE, AuthMethod.SAFECOOKIE}:
            raise TorAuthenticationFailed(
                f"tor at {where} must require cookie authentication: set CookieAuthentication 1"
            )
        # stem's own authenticate() (given the answer above) also readies event delivery.
        stem.connection.authenticate(controller, protocolinfo_response=info)
    except stem.connection.AuthenticationFailure as exc:
        raise TorAuthenticationFailed(
            f"tor at {where} refused cookie authentication ({exc}); can this user read the "
            "cookie file (Debian: be in group debian-tor)?"
        ) from None
    except (stem.ProtocolError, stem.SocketError) as exc:
        raise TorUnavailable(f"tor at {where} did not answer PROTOCOLINFO: {exc}") from None


def _add_onion_command(
    key: ServiceKey, service: OnionService, clients: Sequence[str], settings: TorSettings
) -> str:
    flags = ["DiscardPK", "MaxStreamsCloseCircuit"]
    if service.client_auth:
        if not clients:
            raise PublicationFailed(
                "no staff device is authorised: run `seethesigns onion add-client NAME` first"
            )
        flags.append("V3Auth")
    # stem 1.8 knows neither the PoW options nor several ClientAuthV3 keys: send it raw.
    parts = [
        f"ADD_ONION {key.tor_key()}",
        "Flags=" + ",".join(flags),
        f"MaxStreams={MAX_STREAMS}",
        "PoWDefensesEnabled=1",
        f"PoWQueueRate={settings.pow_queue_rate}",
        f"PoWQueueBurst={settings.pow_queue_burst}",
        f"Port={VIRTUAL_PORT},{service.target}",
    ]
    parts += [f"ClientAuthV3={client}" for client in clients] if service.client_auth else []
    return " ".join(parts)


def publish(
    controller: Controller,
    key: ServiceKey,
    service: OnionService,
    clients: Sequence[str],
    settings: TorSettings,
    timeout: float,
    stop: threading.Event | None = None,
) -> None:
    """ADD_ONION the service and wait until an HSDir has accepted its descriptor.

    The wait ends early when stop is set: a publisher asked to stop (systemd's SIGTERM) must
    not sit out the whole timeout while tor cannot reach the network.
    """
    address = key.address
    uploaded = threading.Event()
    failures: list[str] = []

    def on_descriptor(event: Any) -> None:
        if event.address != address:
            return
        if event.action == stem.HSDescAction.UPLOADED:
            uploaded.set()
        elif event.action == stem.HSDescAction.FAILED:
            failures.append(str(event.reason))

    controller.add_event_listener(on_descriptor, EventType.HS_DESC)
    try:
        reply = controller.msg(_add_onion_command(key, service, clients, settings))
        if not reply.is_ok():
            raise PublicationFailed(f"tor refused the {service.name} onion service: {reply}")
        lines = [line for line in reply if line.startswith("ServiceID=")]
        if lines != [f"ServiceID={address}"]:
            raise PublicationFailed(f"tor answered {lines} for the {service.name} service")
        deadline = time.monotonic() + timeout
        while not uploaded.wait(min(0.25, max(0.0, deadline - time.monotonic()))):
            if stop is not None and stop.is_set():
                raise PublicationFailed(
                    f"stopped before the {service.name} descriptor was uploaded"
                )
            if time.monotonic() < deadline:
                continue
            raise PublicationFailed(
                f"the {service.name} descriptor was not uploaded within {timeout:.0f} s"
                + (f" (HSDir failures: {', '.join(failures)})" if failures else "")
            )
    finally:
        controller.remove_event_listener(on_descriptor)


def unpublish(controller: Controller, address: str) -> None:
    """Remove a service this connection published, and cut its clients' open circuits."""
    reply = controller.msg(f"DEL_ONION {address}")
    if not reply.is_ok():
        raise PublicationFailed(f"tor did not remove {address}.onion: {reply}")
    close_rendezvous_circuits(controller, address)


def close_rendezvous_circuits(controller: Controller, address: str) -> int:
    """Close the service's rendezvous circuits; return how many were closed.

    A revoked device's open circuit would otherwise keep working: tor accepts new streams on
    it once the service is published again under the same key.
    """
    closed = 0
    for circuit in controller.get_circuits():
        if circuit.purpose == "HS_SERVICE_REND" and circuit.rend_query == address:
            try:
                controller.close_circuit(circuit.id)
                closed += 1
            except stem.InvalidArguments:
                pass  # closed meanwhile
    return closed


def running_in_tor(controller: Controller, address: str) -> bool:
    """Whether tor runs the service now (it has a descriptor of its own for it)."""
    try:
        controller.get_info(f"hs/service/desc/id/{address}")
    except stem.ControllerError:
        return False
    return True


def descriptor_published(controller: Controller, address: str, timeout: float) -> str | None:
    """None if an HSDir serves the service's descriptor now, else why not (HSFETCH)."""
    if not running_in_tor(controller, address):
        return "not running in tor (is `seethesigns onion up` running?)"
    requested: list[str] = []
    failed: list[str] = []
    received = threading.Event()
    settled = threading.Event()

    def on_descriptor(event: Any) -> None:
        if event.address != address:
            return
        if event.action == stem.HSDescAction.REQUESTED:
            requested.append(str(event.directory))
        elif event.action == stem.HSDescAction.RECEIVED:
            received.set()
            settled.set()
        elif event.action == stem.HSDescAction.FAILED:
            failed.append(str(event.reason))
            if len(failed) >= len(requested):
                settled.set()

    controller.add_event_listener(on_descriptor, EventType.HS_DESC)
    try:
        reply = controller.msg(f"HSFETCH {address}")
        if not reply.is_ok():
            return f"tor refused to fetch the descriptor: {reply}"
        settled.wait(timeout)
    finally:
        controller.remove_event_listener(on_descriptor)
    if received.is_set():
        return None
    if failed:
        return "no HSDir has it (" + ", ".join(sorted(set(failed))) + ")"
    return f"no HSDir answered within {timeout:.0f} s"


class OnionPublisher:
    """Keeps the services published while it runs: `seethesigns onion up`, `serve --onion`.

    It watches two things: the control connection (tor restarted: reconnect and publish
    again) and the staff clients file (a device added or revoked: republish the staff
    service with the new keys, closing the open circuits so a revoked device is cut off).
    """

    def __init__(
        self,
        settings: TorSettings,
        services: Sequence[OnionService],
        *,
        publish_timeout: float = 120.0,
        poll_seconds: float = 0.5,
        retry_seconds: float = 2.0,
    ) -> None:
        self.settings = settings
        self.services = list(services)
        self.keys = OnionKeys(settings.keys_dir)
        self.publish_timeout = publish_timeout
        self.poll_seconds = poll_seconds
        self.retry_seconds = retry_seconds
        self._published: dict[str, dict[str, Any]] = {}
        self._stop: threading.Event | None = None

    def run(self, stop: threading.Event) -> None:
        """Publish and watch until stop is set; fatal errors (auth, old tor, keys) raise."""
        self._stop = stop
        while not stop.is_set():
            try:
                with tor_controller(self.settings) as controller:
                    for service in self.services:
                        self._publish(controller, service)
                    self._watch(controller, stop)
            except (TorUnavailable, PublicationFailed, stem.ControllerError) as exc:
                log.warning("%s; trying again in %.0f s", exc, self.retry_seconds)
                stop.wait(self.retry_seconds)

    def _publish(self, controller: Controller, service: OnionService) -> None:
        key = self.keys.service_key(service.name)
        clients = self.keys.clients() if service.client_auth else {}
        record = publication_record(key.address, service, clients)
        if service.client_auth and not clients:
            # Nobody authorised: nobody can reach it, so it is not published at all.
            record["reason"] = NO_STAFF_DEVICE
            log.warning("%s onion service not published: %s", service.name, NO_STAFF_DEVICE)
        else:
            values = list(clients.values())
            publish(
                controller, key, service, values, self.settings, self.publish_timeout, self._stop
            )
            record["uploaded_at"] = datetime.now(UTC).isoformat(timespec="milliseconds")
            log.info(
                "%s onion service published%s: http://%s.onion",
                service.name,
                f" for {len(clients)} staff device(s)" if service.client_auth else "",
                key.address,
            )
        self._published[service.name] = record
        self.keys.record_publication(service.name, record)

    def _watch(self, controller: Controller, stop: threading.Event) -> None:
        staff = [service for service in self.services if service.client_auth]
        reported: str | None = None
        while not stop.wait(self.poll_seconds):
            if not controller.is_alive():
                log.warning("lost tor's control connection; publishing again once tor is back")
                return
            for service in staff:
                try:
                    clients = self.keys.clients()
                except KeyFileError as exc:
                    if str(exc) != reported:
                        log.error("%s; the staff service stays as it is", exc)
                    reported = str(exc)
                    continue
                reported = None
                current = self._published[service.name]
                if not publishes_clients(current, clients):
                    if current["uploaded_at"] is not None:
                        unpublish(controller, current["address"])
                    self._publish(controller, service)
                    # Circuits a revoked device opened in between are cut too.
                    close_rendezvous_circuits(controller, current["address"])
