"""One frozen, typed settings object, loaded from a TOML file in one place."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

CONFIG_ENV = "SEETHESIGNS_CONFIG"
DEFAULT_CONTROL_SOCKET = Path("/run/tor/control")


class SettingsError(Exception):
    """The configuration file is missing, unreadable, or has a missing or invalid value."""


@dataclass(frozen=True)
class Argon2Settings:
    """Cost of argon2id, used for codename derivation and staff passphrase hashing.

    The production default (t=3, m=64 MiB, p=1) costs about 0.2-0.3 s on one core here:
    slow enough that guessing codenames from a stolen database is hopeless, fast enough
    that a young person on a slow phone over Tor does not notice it twice per login.
    """

    time_cost: int = 3
    memory_cost_kib: int = 65536
    parallelism: int = 1
    # Codename derivations running at once in one server process (issue 10: each /create and
    # codename login costs two runs, for anyone); beyond that a request waits this long for
    # one to finish, then gets a "try again in a minute" page. Default: one per CPU core.
    max_concurrent: int = field(default_factory=lambda: os.cpu_count() or 1)
    busy_wait_seconds: float = 1.0


@dataclass(frozen=True)
class InterfaceSettings:
    """What differs between the source and the staff interface."""

    secret_key: bytes
    session_cookie_name: str
    session_idle_minutes: int


@dataclass(frozen=True)
class LoginSettings:
    """Brute-force limits for staff login, and how long a staff session can last at most.

    Activity renews a staff session's idle timeout ([journalist] session_idle_minutes), but
    never past session_max_minutes after login: then the person logs in again. Managing staff
    and changing one's own passphrase or two-factor need the passphrase and a new code again
    (SecureDrop audit SEC-01-010), which then hold for reauth_minutes in that session.
    """

    max_failures: int = 5
    failure_window_seconds: int = 60
    lockout_seconds: int = 300
    session_max_minutes: int = 480
    reauth_minutes: int = 5


@dataclass(frozen=True)
class TorSettings:
    """How `seethesigns onion` reaches tor, where the onion services' keys live, and the local
    ports on 127.0.0.1 the onion services forward to (source_port, journalist_port).

    At most one of control_port and control_socket is set in [tor]; with neither, Debian's
    control socket is used. Authentication is always tor's cookie (see tor/README.md).
    """

    keys_dir: Path
    control_port: int | None = None
    control_socket: Path | None = DEFAULT_CONTROL_SOCKET
    source_port: int = 8080
    journalist_port: int = 8081
    pow_queue_rate: int = 250
    pow_queue_burst: int = 2500


@dataclass(frozen=True)
class ServeSettings:
    """Where `seethesigns serve` binds gunicorn when a front (nginx) stands between tor and it.

    Unset (None), an interface is served right where its onion service points: [tor]
    source_port or journalist_port. Set, the front listens on the [tor] port and proxies here.
    """

    source_port: int | None = None
    journalist_port: int | None = None


@dataclass(frozen=True)
class TorControl:
    """tor's control port or socket as chosen outside the file: a flag, the environment, `init`.

    Exactly one is set; it replaces whichever of the two [tor] names.
    """

    port: int | None = None
    socket: Path | None = None

    def __post_init__(self) -> None:
        if (self.port is None) == (self.socket is None):
            raise ValueError("TorControl takes a port or a socket")

    def apply(self, tor: TorSettings) -> TorSettings:
        """The tor settings with this choice instead of the file's."""
        return replace(tor, control_port=self.port, control_socket=self.socket)


@dataclass(frozen=True)
class AlertSettings:
    """[alerts]: the mail relay the alert sender (`seethesigns alerts run`) hands alerts to.

    Mail always goes over STARTTLS with the relay's certificate checked (against ca_file when
    set, else the system's trust store). socks_proxy ("127.0.0.1:9050", tor's SOCKS port)
    makes the connection through tor, the relay's name resolved by tor. The timings say when
    alerts go out (docs/operators.md); the batch interval for reports not marked urgent is an
    instance setting admins change in the staff interface.
    """

    host: str
    from_address: str
    port: int = 587
    username: str | None = None
    password_file: Path | None = None
    ca_file: Path | None = None
    socks_proxy: tuple[str, int] | None = None
    helo_name: str = "localhost"
    timeout_seconds: float = 30.0
    poll_seconds: float = 2.0
    urgent_repeat_minutes: float = 5.0
    reminder_hours: float = 4.0
    retry_max_seconds: float = 900.0


@dataclass(frozen=True)
class Settings:
    """Everything an instance needs, as read from its TOML file."""

    data_dir: Path
    database_url: str
    gnupg_homedir: Path
    submission_key_fingerprint: str
    pepper_filesystem_id: bytes
    pepper_key_secret: bytes
    argon2: Argon2Settings
    source: InterfaceSettings
    journalist: InterfaceSettings
    login: LoginSettings
    tor: TorSettings
    serve: ServeSettings = ServeSettings()
    max_upload_bytes: int = 2 * 1024**3
    max_message_chars: int = 100_000
    key_check_interval_seconds: float = 30.0
    # [backup] public_key_file: the key `seethesigns backup` encrypts to without --backup-key.
    backup_public_key_file: Path | None = None
    # [alerts]; None when the section is absent, and then no alert is sent.
    alerts: AlertSettings | None = None
    # [audit] key: the HMAC key of the audit log's hash chain. None only in a configuration
    # written before issue 13, until `seethesigns migrate` adds one; the staff app needs it.
    audit_key: bytes | None = None
    # [database] pool_size: connections each server process keeps open to PostgreSQL. None
    # (the default) sizes it to the process's threads (`serve --threads`); SQLite ignores it.
    database_pool_size: int | None = None

    def serve_port(self, interface: str) -> int:
        """The port `seethesigns serve INTERFACE` binds by default: [serve], else [tor]."""
        port: int | None = getattr(self.serve, f"{interface}_port")
        return port if port is not None else int(getattr(self.tor, f"{interface}_port"))

    def behind_front(self, interface: str) -> bool:
        """Whether a front (nginx) stands between the interface's onion service and gunicorn."""
        return getattr(self.serve, f"{interface}_port") is not None

    @property
    def store_dir(self) -> Path:
        """Where encrypted submissions and replies live, one folder per source."""
        return self.data_dir / "store"

    @property
    def tmp_dir(self) -> Path:
        """Scratch space on the same filesystem: encrypted upload spools, throwaway keyrings."""
        return self.data_dir / "tmp"


def _get(table: dict[str, Any], section: str, key: str, kind: type) -> Any:
    """Return table[key] if present and of the right type, else raise naming the key."""
    name = f"[{section}] {key}"
    if key not in table:
        raise SettingsError(f"settings: {name} is missing")
    value = table[key]
    if kind is int and isinstance(value, bool):
        raise SettingsError(f"settings: {name} must be an integer")
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind):
        raise SettingsError(f"settings: {name} must be of type {kind.__name__}")
    return value


def _get_optional(table: dict[str, Any], section: str, key: str, kind: type, default: Any) -> Any:
    """Like _get, but a missing key takes the documented default."""
    return _get(table, section, key, kind) if key in table else default


def _positive(section: str, key: str, value: int | float) -> Any:
    if value <= 0:
        raise SettingsError(f"settings: [{section}] {key} must be positive")
    return value


def _secret(table: dict[str, Any], section: str, key: str) -> bytes:
    """A 32-byte secret written as 64 hex characters."""
    text = _get(table, section, key, str)
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise SettingsError(f"settings: [{section}] {key} must be hexadecimal") from None
    if len(raw) != 32:
        raise SettingsError(f"settings: [{section}] {key} must be 32 bytes (64 hex characters)")
    return raw


def _section(doc: dict[str, Any], name: str) -> dict[str, Any]:
    table = doc.get(name)
    if not isinstance(table, dict):
        raise SettingsError(f"settings: section [{name}] is missing")
    return table


def _load_argon2(doc: dict[str, Any]) -> Argon2Settings:
    table = doc.get("argon2", {})
    defaults = Argon2Settings()
    values = {
        key: _positive(
            "argon2", key, _get_optional(table, "argon2", key, int, getattr(defaults, key))
        )
        for key in ("time_cost", "memory_cost_kib", "parallelism")
    }
    if values["memory_cost_kib"] < 8 * values["parallelism"]:
        raise SettingsError("settings: [argon2] memory_cost_kib must be at least 8 x parallelism")
    if "max_concurrent" in table:
        values["max_concurrent"] = _positive(
            "argon2", "max_concurrent", _get(table, "argon2", "max_concurrent", int)
        )
    wait = _get_optional(table, "argon2", "busy_wait_seconds", float, defaults.busy_wait_seconds)
    if wait < 0:
        raise SettingsError("settings: [argon2] busy_wait_seconds must not be negative")
    return Argon2Settings(**values, busy_wait_seconds=wait)


def _load_interface(doc: dict[str, Any], name: str) -> InterfaceSettings:
    table = _section(doc, name)
    cookie = _get(table, name, "session_cookie_name", str)
    if not cookie.isidentifier():
        raise SettingsError(f"settings: [{name}] session_cookie_name must be a plain identifier")
    idle = _get_optional(table, name, "session_idle_minutes", int, 120)
    return InterfaceSettings(
        secret_key=_secret(table, name, "secret_key"),
        session_cookie_name=cookie,
        session_idle_minutes=_positive(name, "session_idle_minutes", idle),
    )


def _load_login(doc: dict[str, Any]) -> LoginSettings:
    table = doc.get("login", {})
    defaults = LoginSettings()
    return LoginSettings(
        **{
            key: _positive(
                "login", key, _get_optional(table, "login", key, int, getattr(defaults, key))
            )
            for key in (
                "max_failures",
                "failure_window_seconds",
                "lockout_seconds",
                "session_max_minutes",
                "reauth_minutes",
            )
        }
    )


def _port(section: str, key: str, value: int) -> int:
    if not 0 < value < 65536:
        raise SettingsError(f"settings: [{section}] {key} must be a TCP port (1-65535)")
    return value


def _load_tor(doc: dict[str, Any], data_dir: Path) -> TorSettings:
    table = doc.get("tor", {})
    if not isinstance(table, dict):
        raise SettingsError("settings: [tor] must be a table")
    defaults = TorSettings(keys_dir=data_dir / "onion")
    port = _get_optional(table, "tor", "control_port", int, None)
    socket = _get_optional(table, "tor", "control_socket", str, None)
    if port is not None and socket is not None:
        raise SettingsError("settings: [tor] set control_port or control_socket, not both")
    control_socket = (data_dir / socket).resolve() if socket else DEFAULT_CONTROL_SOCKET

    def number(key: str, check: Any) -> Any:
        return check("tor", key, _get_optional(table, "tor", key, int, getattr(defaults, key)))

    return TorSettings(
        keys_dir=(data_dir / _get_optional(table, "tor", "keys_dir", str, "onion")).resolve(),
        control_port=None if port is None else _port("tor", "control_port", port),
        control_socket=None if port is not None else control_socket,
        source_port=number("source_port", _port),
        journalist_port=number("journalist_port", _port),
        pow_queue_rate=number("pow_queue_rate", _positive),
        pow_queue_burst=number("pow_queue_burst", _positive),
    )


def _load_serve(doc: dict[str, Any], tor: TorSettings) -> ServeSettings:
    table = doc.get("serve", {})
    if not isinstance(table, dict):
        raise SettingsError("settings: [serve] must be a table")

    def port(key: str) -> int | None:
        value = _get_optional(table, "serve", key, int, None)
        return None if value is None else _port("serve", key, value)

    serve = ServeSettings(source_port=port("source_port"), journalist_port=port("journalist_port"))
    # One port, one listener: two alike would put the staff interface behind the source
    # onion, or nginx and gunicorn on one port.
    seen: dict[int, str] = {}
    for name, value in [
        ("[tor] source_port", tor.source_port),
        ("[tor] journalist_port", tor.journalist_port),
        ("[serve] source_port", serve.source_port),
        ("[serve] journalist_port", serve.journalist_port),
    ]:
        if value is not None and value in seen:
            raise SettingsError(f"settings: {seen[value]} and {name} are both {value}")
        if value is not None:
            seen[value] = name
    return serve


def _load_backup_key_file(doc: dict[str, Any], data_dir: Path) -> Path | None:
    """[backup] public_key_file, relative to data_dir like the other paths; optional."""
    table = doc.get("backup", {})
    if not isinstance(table, dict):
        raise SettingsError("settings: [backup] must be a table")
    name = _get_optional(table, "backup", "public_key_file", str, None)
    if name is not None and not name.strip():
        raise SettingsError("settings: [backup] public_key_file must not be empty")
    return (data_dir / name).resolve() if name else None


def _address(section: str, key: str, value: str) -> str:
    """A plain mail address: one @, no spaces or header syntax."""
    local, at, domain = value.partition("@")
    if not (local and at and domain) or any(c in value for c in ' \t\r\n<>,;"()'):
        raise SettingsError(f"settings: [{section}] {key} must be a plain mail address")
    return value


def _load_alerts(doc: dict[str, Any], data_dir: Path) -> AlertSettings | None:
    """[alerts], or None when absent; paths are relative to data_dir like the others."""
    if "alerts" not in doc:
        return None
    table = doc["alerts"]
    if not isinstance(table, dict):
        raise SettingsError("settings: [alerts] must be a table")
    defaults = AlertSettings(host="", from_address="")
    if not _get_optional(table, "alerts", "starttls", bool, True):
        raise SettingsError("settings: [alerts] starttls must be true: alerts go over TLS only")

    def path(key: str) -> Path | None:
        name = _get_optional(table, "alerts", key, str, None)
        if name is not None and not name.strip():
            raise SettingsError(f"settings: [alerts] {key} must not be empty")
        return (data_dir / name).resolve() if name else None

    def positive(key: str) -> Any:
        value = _get_optional(table, "alerts", key, float, getattr(defaults, key))
        return _positive("alerts", key, value)

    proxy = _get_optional(table, "alerts", "socks_proxy", str, None)
    socks: tuple[str, int] | None = None
    if proxy is not None:
        host, _, port = proxy.rpartition(":")
        if not host or not port.isdigit():
            raise SettingsError("settings: [alerts] socks_proxy must be HOST:PORT")
        socks = (host, _port("alerts", "socks_proxy", int(port)))
    host = _get(table, "alerts", "host", str).strip()
    if not host:
        raise SettingsError("settings: [alerts] host must not be empty")
    return AlertSettings(
        host=host,
        from_address=_address("alerts", "from", _get(table, "alerts", "from", str)),
        port=_port("alerts", "port", _get_optional(table, "alerts", "port", int, defaults.port)),
        username=_get_optional(table, "alerts", "username", str, None),
        password_file=path("password_file"),
        ca_file=path("ca_file"),
        socks_proxy=socks,
        helo_name=_get_optional(table, "alerts", "helo_name", str, defaults.helo_name),
        timeout_seconds=positive("timeout_seconds"),
        poll_seconds=positive("poll_seconds"),
        urgent_repeat_minutes=positive("urgent_repeat_minutes"),
        reminder_hours=positive("reminder_hours"),
        retry_max_seconds=positive("retry_max_seconds"),
    )


def _load_audit_key(doc: dict[str, Any]) -> bytes | None:
    """[audit] key, a 32-byte secret; the section is absent only from older configurations."""
    table = doc.get("audit")
    if table is None:
        return None
    if not isinstance(table, dict):
        raise SettingsError("settings: [audit] must be a table")
    return _secret(table, "audit", "key")


def parse_settings(doc: dict[str, Any], base_dir: Path) -> Settings:
    """Build Settings from a parsed TOML document; relative paths are taken from base_dir."""
    instance = _section(doc, "instance")
    data_dir = (base_dir / _get(instance, "instance", "data_dir", str)).resolve()
    gnupg = _section(doc, "gnupg")
    codenames = _section(doc, "codenames")
    pepper_fs = _secret(codenames, "codenames", "pepper_filesystem_id")
    pepper_key = _secret(codenames, "codenames", "pepper_key_secret")
    if pepper_fs == pepper_key:
        raise SettingsError(
            "settings: [codenames] pepper_filesystem_id and pepper_key_secret must differ"
        )
    source = _load_interface(doc, "source")
    journalist = _load_interface(doc, "journalist")
    if source.session_cookie_name == journalist.session_cookie_name:
        raise SettingsError("settings: [source] and [journalist] session_cookie_name must differ")
    if source.secret_key == journalist.secret_key:
        raise SettingsError("settings: [source] and [journalist] secret_key must differ")
    uploads = doc.get("uploads", {})
    fingerprint = _get(gnupg, "gnupg", "submission_key_fingerprint", str).upper()
    if len(fingerprint) not in (40, 64) or any(c not in "0123456789ABCDEF" for c in fingerprint):
        raise SettingsError("settings: [gnupg] submission_key_fingerprint is not a fingerprint")
    default_db = f"sqlite:///{data_dir / 'seethesigns.db'}"
    database = _section(doc, "database") if "database" in doc else {}
    pool_size = _get_optional(database, "database", "pool_size", int, None)
    if pool_size is not None:
        _positive("database", "pool_size", pool_size)
    tor = _load_tor(doc, data_dir)
    return Settings(
        data_dir=data_dir,
        database_url=_get_optional(database, "database", "url", str, default_db),
        database_pool_size=pool_size,
        gnupg_homedir=(data_dir / _get_optional(gnupg, "gnupg", "homedir", str, "gnupg")).resolve(),
        submission_key_fingerprint=fingerprint,
        pepper_filesystem_id=pepper_fs,
        pepper_key_secret=pepper_key,
        argon2=_load_argon2(doc),
        source=source,
        journalist=journalist,
        login=_load_login(doc),
        tor=tor,
        serve=_load_serve(doc, tor),
        max_upload_bytes=_positive(
            "uploads", "max_bytes", _get_optional(uploads, "uploads", "max_bytes", int, 2 * 1024**3)
        ),
        max_message_chars=_positive(
            "uploads",
            "max_message_chars",
            _get_optional(uploads, "uploads", "max_message_chars", int, 100_000),
        ),
        key_check_interval_seconds=_get_optional(
            gnupg, "gnupg", "key_check_interval_seconds", float, 30.0
        ),
        backup_public_key_file=_load_backup_key_file(doc, data_dir),
        alerts=_load_alerts(doc, data_dir),
        audit_key=_load_audit_key(doc),
    )


def load_settings(path: Path | str | None = None) -> Settings:
    """Load settings from path, or from $SEETHESIGNS_CONFIG when path is None."""
    if path is None:
        env = os.environ.get(CONFIG_ENV)
        if not env:
            raise SettingsError(f"no configuration given: pass --config or set {CONFIG_ENV}")
        path = env
    config_path = Path(path)
    try:
        with config_path.open("rb") as handle:
            doc = tomllib.load(handle)
    except FileNotFoundError:
        raise SettingsError(f"settings: {config_path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"settings: {config_path} is not valid TOML: {exc}") from None
    return parse_settings(doc, config_path.resolve().parent)
