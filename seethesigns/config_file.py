"""Writing a new instance's TOML configuration with fresh secrets."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from seethesigns.settings import DEFAULT_CONTROL_SOCKET, Argon2Settings, TorControl

TEMPLATE = """\
# See the Signs instance configuration, written by `seethesigns init`.
# It holds secrets: keep it mode 0600, owned by the service user, and back it up with the data
# directory. Losing the codename peppers makes every source's codename useless.

[instance]
data_dir = "{data_dir}"

[database]
# SQLite by default; for PostgreSQL: "postgresql+psycopg://user@/seethesigns"
url = "{database_url}"

[gnupg]
homedir = "gnupg"
submission_key_fingerprint = "{fingerprint}"
# How often each app re-checks that the submission key can still encrypt.
key_check_interval_seconds = 30

[codenames]
# Two different 32-byte peppers: one derives filesystem ids, the other reply-key passphrases.
pepper_filesystem_id = "{pepper1}"
pepper_key_secret = "{pepper2}"

[argon2]
# argon2id cost for codenames and staff passphrases: ~0.2-0.3 s on one core (see README).
time_cost = {time_cost}
memory_cost_kib = {memory_cost_kib}
parallelism = {parallelism}
# Codename derivations at once in each server process (default: one per CPU core); a request
# that finds them all busy waits up to busy_wait_seconds, then gets a "try again" page.
# max_concurrent = 2
# busy_wait_seconds = 1.0

[source]
secret_key = "{source_key}"
session_cookie_name = "sts_source"
session_idle_minutes = 120

[journalist]
secret_key = "{journalist_key}"
session_cookie_name = "sts_staff"
session_idle_minutes = 120

[login]
max_failures = 5
failure_window_seconds = 60
lockout_seconds = 300
# A staff session ends this long after login, however active (idle: session_idle_minutes).
session_max_minutes = 480
# Managing staff and changing a passphrase or two-factor ask for the passphrase and a new code
# again, even in an open session; once given, they hold this long in that session.
reauth_minutes = 5

[uploads]
max_bytes = {max_bytes}
max_message_chars = 100000

[tor]
# `seethesigns onion up` talks to tor through this control socket (Debian's tor service makes
# it; the service user must be in group debian-tor) or `control_port = 9051` instead, always
# with cookie authentication. `--control-port`/`--control-socket` (or the environment variables
# SEETHESIGNS_TOR_CONTROL_PORT/_SOCKET) override this for one command. See tor/README.md.
{tor_control}
# The onion services' ED25519-V3 keys and the staff devices' public client keys.
keys_dir = "onion"
# The local ports on loopback the onion services forward to (source, staff). `seethesigns
# serve` binds there too, unless [serve] below puts a front (nginx) on these ports.
source_port = 8080
journalist_port = 8081
# Proof-of-work queue: introductions handled per second when under attack, and the burst.
pow_queue_rate = 250
pow_queue_burst = 2500

[serve]
# With a front such as nginx listening on the [tor] ports, where it proxies to: the ports
# `seethesigns serve` binds on loopback (`--port` still overrides). Left out, each interface
# is served on its [tor] port directly.
# source_port = 8090
# journalist_port = 8091

{audit_section}
# `seethesigns backup` encrypts to this PUBLIC key when --backup-key is not given (a path
# relative to data_dir, or absolute). Its private half stays offline, like the submission
# key's: the server cannot read its own backups. See docs/operators.md, "Backups".
# [backup]
# public_key_file = "/etc/seethesigns/backup-public.asc"
"""


AUDIT_TEMPLATE = """\
[audit]
# Keys the audit log's hash chain (HMAC-SHA256): someone who can change the database but not
# this file cannot rewrite the log undetected. Losing it makes `seethesigns audit verify`
# fail for every entry written before; keep it with the other secrets here.
key = "{key}"
"""


def render_config(
    data_dir: Path,
    fingerprint: str,
    *,
    argon2: Argon2Settings | None = None,
    max_bytes: int = 2 * 1024**3,
    control: TorControl | None = None,
    database_url: str | None = None,
) -> str:
    """A complete configuration with freshly generated secrets (and tor's control choice);
    the database is an SQLite file in data_dir unless database_url names another."""
    cost = argon2 or Argon2Settings()
    pepper1, pepper2 = secrets.token_hex(32), secrets.token_hex(32)
    while pepper2 == pepper1:  # pragma: no cover - 2**-256
        pepper2 = secrets.token_hex(32)
    control = control or TorControl(socket=DEFAULT_CONTROL_SOCKET)
    return TEMPLATE.format(
        data_dir=_toml_string(data_dir),
        database_url=_toml_string(database_url or f"sqlite:///{data_dir}/seethesigns.db"),
        tor_control=f"control_port = {control.port}"
        if control.port is not None
        else f'control_socket = "{_toml_string(control.socket)}"',
        fingerprint=fingerprint,
        pepper1=pepper1,
        pepper2=pepper2,
        time_cost=cost.time_cost,
        memory_cost_kib=cost.memory_cost_kib,
        parallelism=cost.parallelism,
        source_key=secrets.token_hex(32),
        journalist_key=secrets.token_hex(32),
        max_bytes=max_bytes,
        audit_section=audit_section(),
    )


def audit_section() -> str:
    """A fresh [audit] section: the HMAC key of the audit log's chain."""
    return AUDIT_TEMPLATE.format(key=secrets.token_hex(32))


def add_audit_key(path: Path, text: str) -> None:
    """Append a fresh [audit] section to a configuration written before issue 13."""
    with path.open("a", encoding="utf-8") as handle:
        handle.write(("" if text.endswith("\n") else "\n") + "\n" + audit_section())


def _toml_string(path: Path | str | None) -> str:
    """A path (or URL) as the inside of a TOML basic string."""
    return str(path).replace("\\", "\\\\").replace('"', '\\"')


def write_private(path: Path, text: str) -> None:
    """Create path with mode 0600, refusing to overwrite an existing file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
