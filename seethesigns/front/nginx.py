"""nginx's complete configuration for the front before both interfaces (issue 10, finding 3).

gunicorn's gthread workers read a request in the thread that will serve it, with no read
timeout: four clients that sent half a request held every thread of a 1x4 server, and one
Tor circuit (MaxStreams 20) could hold every thread of the default 2x8. nginx reads each
request first, holding thousands of slow clients in one process, and cuts those that stall;
gunicorn sees a request only once it has arrived. The one exception is the upload route,
streamed (see the template), whose connections are capped below gunicorn's thread count.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from seethesigns.front import FRONT_HEADER
from seethesigns.front.pages import too_large_page, unavailable_page
from seethesigns.onion import MAX_STREAMS
from seethesigns.settings import Settings
from seethesigns.web.request_body import UPLOAD_FRAMING_BYTES
from seethesigns.web.setup import CSP

TEMPLATE = "nginx.conf.j2"
DEFAULT_SOCKET_DIR = Path("/run/seethesigns")
DEFAULT_USER = "www-data"
# `seethesigns serve`'s defaults: 2 workers x 8 threads (a test holds the two equal).
DEFAULT_APP_THREADS = 16
# The source's other forms (create, login, delete a reply) are a few hundred bytes.
SOURCE_FORM_BYTES = 64 * 1024
# Staff forms: a reply (the app takes 1.2 MiB and a little more) or a setting, the logo
# (256 KiB), and multipart framing.
STAFF_FORM_BYTES = 3 * 1024 * 1024
# The stream in which nginx passes an upload on to gunicorn.
UPLOAD_BUFFER_BYTES = 64 * 1024
# What can stand as one word in nginx's configuration: no spaces, quotes, ';', braces or '$'.
WORD = r"[^\s;{}'\"$]+"
UPSTREAM = re.compile(rf"unix:/{WORD}|127\.0\.0\.1:[0-9]{{1,5}}")
LOG_LEVELS = ("debug", "info", "notice", "warn", "error", "crit", "alert", "emerg")
# nginx reads a quoted string of at most 4 KiB from its configuration.
MAX_PAGE_BYTES = 4000


# Mozilla's "intermediate" TLS 1.2 ciphers (server side 5.7); TLS 1.3's are all good.
TLS_CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"
)
HSTS_SECONDS = 63072000
DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
ONION = re.compile(r"[a-z2-7]{56}")


class FrontConfigError(ValueError):
    """The front's numbers contradict each other, or a value is invalid."""


@dataclass(frozen=True)
class HttpsFront:
    """The optional HTTPS front for the source interface only (issue 17); off unless given."""

    domain: str
    certificate: Path
    certificate_key: Path
    # The source onion service's address (56 letters, no ".onion"), for Onion-Location.
    onion_address: str
    port: int = 443
    # Plain HTTP answers only with a redirect to HTTPS; None: no plain listener.
    http_port: int | None = 80
    # Addresses to listen on: every IPv4 and IPv6 address by default.
    listen_addresses: tuple[str, ...] = ("0.0.0.0", "[::]")  # noqa: S104 - a public site
    # Only with a certificate whose issuer runs an OCSP responder (ACME's): nginx warns
    # for one without.
    ocsp_stapling: bool = False

    def __post_init__(self) -> None:
        if not DOMAIN.fullmatch(self.domain):
            raise FrontConfigError(f"{self.domain!r} is not a domain name (like example.org)")
        if not ONION.fullmatch(self.onion_address):
            raise FrontConfigError(f"{self.onion_address!r} is not a v3 onion address")
        for word in (str(self.certificate), str(self.certificate_key), *self.listen_addresses):
            if not re.fullmatch(WORD, word):
                raise FrontConfigError(f"{word!r} cannot be written into nginx's configuration")

    @property
    def onion_location(self) -> str:
        """The onion address Tor Browser offers to switch to (without the path)."""
        return f"http://{self.onion_address}.onion"


@dataclass(frozen=True)
class FrontConfig:
    """Everything the nginx configuration is rendered from; defaults are production's."""

    source_port: int
    journalist_port: int
    max_upload_bytes: int
    # Where nginx passes each interface on: gunicorn's unix socket, or a port on 127.0.0.1.
    source_upstream: str = f"unix:{DEFAULT_SOCKET_DIR}/source.sock"
    journalist_upstream: str = f"unix:{DEFAULT_SOCKET_DIR}/journalist.sock"
    # None: no `user` line, for an nginx not started as root.
    user: str | None = DEFAULT_USER
    pid_file: Path = Path("/run/nginx.pid")
    temp_dir: Path = Path("/var/lib/nginx")
    # gunicorn's workers x threads serving the source interface.
    app_threads: int = DEFAULT_APP_THREADS
    worker_connections: int = 1024
    header_timeout: int = 10
    body_timeout: int = 10
    upload_timeout: int = 30
    send_timeout: int = 30
    keepalive_timeout: int = 10
    # Waiting for the app's answer: an upload's answer comes after it is encrypted and stored.
    read_timeout: int = 60
    upload_read_timeout: int = 300
    log_level: str = "alert"
    https: HttpsFront | None = None

    def __post_init__(self) -> None:
        for upstream in (self.source_upstream, self.journalist_upstream):
            if not UPSTREAM.fullmatch(upstream):
                raise FrontConfigError(
                    f"{upstream!r}: gunicorn must be on a unix socket (unix:/PATH) or on "
                    "127.0.0.1:PORT"
                )
        for word in (str(self.pid_file), str(self.temp_dir), self.user or "-"):
            if not re.fullmatch(WORD, word):
                raise FrontConfigError(f"{word!r} cannot be written into nginx's configuration")
        if self.log_level not in LOG_LEVELS:
            raise FrontConfigError(f"log_level must be one of {', '.join(LOG_LEVELS)}")
        timeouts = (self.header_timeout, self.body_timeout, self.upload_timeout)
        if min(*timeouts, self.send_timeout, self.keepalive_timeout, self.read_timeout) < 1:
            raise FrontConfigError("every timeout must be at least 1 second")
        if self.app_threads < 2:
            raise FrontConfigError(
                "app_threads must be at least 2: uploads may hold half, pages need the rest"
            )
        if self.worker_connections <= 2 * MAX_STREAMS:
            raise FrontConfigError(
                f"worker_connections ({self.worker_connections}) must exceed twice tor's "
                f"MaxStreams ({MAX_STREAMS}): each stream of one circuit takes a client "
                "connection and one to gunicorn, and one circuit must not fill nginx"
            )

    @property
    def upload_slots(self) -> int:
        """Uploads streaming to gunicorn at once: fewer than its threads, so pages still load."""
        return self.app_threads // 2

    @property
    def upload_body_bytes(self) -> int:
        """The largest upload request, as the app allows it."""
        return self.max_upload_bytes + UPLOAD_FRAMING_BYTES

    @classmethod
    def from_settings(
        cls, settings: Settings, socket_dir: Path = DEFAULT_SOCKET_DIR, **values: Any
    ) -> FrontConfig:
        """The front for an instance: nginx on its [tor] ports, gunicorn on its [serve] ports
        or else on unix sockets in socket_dir (systemd's), its upload limit, values given."""
        return cls(
            source_port=settings.tor.source_port,
            journalist_port=settings.tor.journalist_port,
            max_upload_bytes=settings.max_upload_bytes,
            source_upstream=upstream(settings, "source", socket_dir),
            journalist_upstream=upstream(settings, "journalist", socket_dir),
            **values,
        )


def upstream(settings: Settings, interface: str, socket_dir: Path) -> str:
    """Where gunicorn serves interface, as nginx's upstream `server` names it."""
    if settings.behind_front(interface):
        return f"127.0.0.1:{settings.serve_port(interface)}"
    return f"unix:{socket_dir / interface}.sock"


def nginx_string(text: str) -> str:
    """text as a single-quoted nginx string, literal: no variables, no line breaks."""
    if "$" in text or "\n" in text:
        raise FrontConfigError("a page for nginx cannot hold '$' or a line break")
    if len(text.encode("utf-8")) > MAX_PAGE_BYTES:
        raise FrontConfigError(f"a page for nginx must stay under {MAX_PAGE_BYTES} bytes")
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def render_nginx_config(config: FrontConfig) -> str:
    """The whole of nginx.conf for config."""
    environment = Environment(
        loader=FileSystemLoader(Path(__file__).parent),
        undefined=StrictUndefined,
        autoescape=False,  # noqa: S701 - nginx configuration, not HTML
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["nginx_string"] = nginx_string
    values = asdict(config)
    values["https"] = config.https
    return environment.get_template(TEMPLATE).render(
        **values,
        tls_ciphers=TLS_CIPHERS,
        hsts_seconds=HSTS_SECONDS,
        front_header=FRONT_HEADER,
        upload_slots=config.upload_slots,
        upload_body_bytes=config.upload_body_bytes,
        source_form_bytes=SOURCE_FORM_BYTES,
        staff_form_bytes=STAFF_FORM_BYTES,
        upload_buffer_bytes=UPLOAD_BUFFER_BYTES,
        max_streams=MAX_STREAMS,
        csp=CSP,
        too_large_page=too_large_page(config.max_upload_bytes),
        unavailable_page=unavailable_page(),
    )
