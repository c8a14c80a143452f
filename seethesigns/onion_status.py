"""What `seethesigns onion status` checks: is each onion service published, and does the local
address it forwards to answer HTTP?

Publication is asked of tor itself (and of an HSDir, as a visitor's Tor Browser would); why a
service is not published comes from the record the running publisher keeps (keys.publication()),
since only the publisher knows that it left the staff service down on purpose.
"""

from __future__ import annotations

import http.client
from dataclasses import dataclass
from typing import Any

from stem.control import Controller

from seethesigns.onion import (
    JOURNALIST,
    NO_STAFF_DEVICE,
    SOURCE,
    OnionKeys,
    TorUnavailable,
    descriptor_published,
    onion_target,
    publishes_clients,
    running_in_tor,
    tor_controller,
)
from seethesigns.settings import TorSettings

# A local server that takes longer than this to answer a plain GET is not serving visitors.
TARGET_TIMEOUT = 3.0
NO_PUBLISHER = "no `seethesigns onion up` (or `serve --onion`) is running"


@dataclass(frozen=True)
class TargetCheck:
    """The answer of an onion service's local target to a plain GET /."""

    target: str
    http_status: int | None
    error: str | None

    @property
    def answers(self) -> bool:
        """Any HTTP status counts: something is serving there."""
        return self.http_status is not None


@dataclass(frozen=True)
class ServiceStatus:
    """One onion service: its address, why it is not published (None: it is), its target."""

    name: str
    address: str
    not_published: str | None
    target: TargetCheck


@dataclass(frozen=True)
class StatusReport:
    """Both services, and the staff devices as the publisher last saw them."""

    services: list[ServiceStatus]
    authorised_devices: int
    republication_pending: bool

    @property
    def ok(self) -> bool:
        """Every service published and every target answering."""
        return all(s.not_published is None and s.target.answers for s in self.services)

    def as_text(self) -> str:
        """The report as `status` prints it: two lines per service, then the devices."""
        lines = []
        for s in self.services:
            state = "published" if s.not_published is None else f"not published: {s.not_published}"
            answer = (
                f"answers (HTTP {s.target.http_status})"
                if s.target.answers
                else f"does not answer: {s.target.error}"
            )
            lines += [f"{s.name:<11} http://{s.address}.onion  {state}"]
            lines += [f"{'':<11} target {s.target.target} {answer}"]
        pending = " (republication pending)" if self.republication_pending else ""
        return "\n".join([*lines, f"authorised staff devices: {self.authorised_devices}{pending}"])

    def as_json(self) -> dict[str, Any]:
        """The report as `status --json` prints it."""
        return {
            "ok": self.ok,
            "services": {
                s.name: {
                    "address": f"{s.address}.onion",
                    "url": f"http://{s.address}.onion",
                    "published": s.not_published is None,
                    "reason": s.not_published,
                    "target": s.target.target,
                    "target_answers": s.target.answers,
                    "target_http_status": s.target.http_status,
                    "target_error": s.target.error,
                }
                for s in self.services
            },
            "authorised_staff_devices": self.authorised_devices,
            "republication_pending": self.republication_pending,
        }


def check_target(target: str, address: str, timeout: float = TARGET_TIMEOUT) -> TargetCheck:
    """GET / from target as tor forwards a visitor's request: with the onion as Host."""
    host, _, port = target.rpartition(":")
    connection = http.client.HTTPConnection(host.strip("[]"), int(port), timeout=timeout)
    try:
        connection.request("GET", "/", headers={"Host": f"{address}.onion"})
        return TargetCheck(target, connection.getresponse().status, None)
    except TimeoutError:
        return TargetCheck(target, None, f"no answer within {timeout:g} s")
    except http.client.HTTPException as exc:
        return TargetCheck(target, None, f"not HTTP ({type(exc).__name__})")
    except OSError as exc:
        return TargetCheck(target, None, (exc.strerror or str(exc)).lower())
    finally:
        connection.close()


def why_not_in_tor(name: str, record: dict[str, Any] | None, clients: int) -> str:
    """Why tor does not run the service, from its publisher's record (None: no publisher)."""
    if record is None:
        if name == JOURNALIST and not clients:
            return f"{NO_PUBLISHER}, and {NO_STAFF_DEVICE}"
        return NO_PUBLISHER
    if record.get("uploaded_at") is None:
        return str(record.get("reason") or "its publisher has not published it yet")
    return "tor lost it (restarted?); the running publisher publishes it again once tor is back"


def _not_published(
    controller: Controller,
    name: str,
    address: str,
    record: dict[str, Any] | None,
    clients: int,
    timeout: float,
) -> str | None:
    if not running_in_tor(controller, address):
        return why_not_in_tor(name, record, clients)
    return descriptor_published(controller, address, timeout)


def onion_status(settings: TorSettings, timeout: float) -> StatusReport:
    """Check both services; raise OnionError only for what stops the check itself (key files,
    tor refusing our cookie, tor too old). tor being down is reported, not raised."""
    keys = OnionKeys(settings.keys_dir)
    addresses = {name: keys.service_key(name).address for name in (SOURCE, JOURNALIST)}
    clients = keys.clients()
    records = keys.publication()
    try:
        with tor_controller(settings) as controller:
            problems = {
                name: _not_published(
                    controller, name, address, records.get(name), len(clients), timeout
                )
                for name, address in addresses.items()
            }
    except TorUnavailable as exc:
        problems = dict.fromkeys(addresses, str(exc))
    services = [
        ServiceStatus(
            name,
            address,
            problems[name],
            # The running publisher's own target, else where it would point.
            check_target(
                records.get(name, {}).get("target") or onion_target(settings, name), address
            ),
        )
        for name, address in addresses.items()
    ]
    staff = records.get(JOURNALIST)
    pending = staff is not None and not publishes_clients(staff, clients)
    return StatusReport(services, len(clients), pending)
