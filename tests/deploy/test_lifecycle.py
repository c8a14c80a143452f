"""Backups that restore onto a fresh server, and upgrades that keep every report (or roll back)."""

from __future__ import annotations

import contextlib
import gzip
import shutil
import subprocess
from concurrent.futures import Future
from pathlib import Path

from tests.deploy.conftest import (
    ROOT,
    BaselineDeployed,
    Deployed,
    Operator,
    credentials_of,
    downloaded_messages,
    host_of,
    make_report,
    staff_token,
    tunnel,
)
from tests.deploy.lab import Lab

FAILING_MIGRATION = '''"""A migration that breaks half way (deployment test)."""
import sqlalchemy as sa
from alembic import op

revision = "9999failing"
down_revision = "PARENT"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("DELETE FROM sources")
    raise RuntimeError("this migration fails on purpose")


def downgrade() -> None:
    pass
'''


def plaintexts(operator: Operator, blobs: list[bytes]) -> list[bytes]:
    """Decrypt downloaded submissions with the offline key, as the workstation does."""
    texts = []
    for blob in blobs:
        data = operator.submission_key.decrypt(blob)
        with contextlib.suppress(OSError):  # a message is gzipped; tolerate one that is not
            data = gzip.decompress(data)
        texts.append(data)
    return texts


def reports_on(target_url: str, credentials: dict[str, str], operator: Operator) -> bytes:
    """Every report on an instance, decrypted and joined, fetched through its staff API."""
    token = staff_token(target_url, credentials)
    return b"\n".join(plaintexts(operator, downloaded_messages(target_url, token)))


def onion_addresses(host: object) -> str:
    """The onion service keys' public addresses, as the instance reports them."""
    return str(
        host.check_output(  # type: ignore[attr-defined]
            "runuser -u seethesigns -- /opt/seethesigns/current/venv/bin/seethesigns onion "
            "list-clients --json --config /etc/seethesigns/seethesigns.toml; "
            "sha256sum /var/lib/seethesigns/onion/*.key 2>/dev/null | cut -c1-64 | sort"
        )
    )


def test_a_backup_restores_onto_a_fresh_server(
    lab: Lab, operator: Operator, deployed: Deployed
) -> None:
    marker = b"Backup test: the older boys wait outside the chip shop."
    with tunnel(deployed.target, 8080) as source_url:
        make_report(source_url, marker.decode())
    backup = operator.converge(deployed.inventory, "backup.yml", label="backup playbook")
    assert backup.recap[deployed.target.name]["failed"] == 0
    fetched = sorted((deployed.inventory / "backups" / deployed.target.name).glob("*.tar.gpg"))
    assert fetched, "the backup playbook fetched nothing"
    archive = fetched[-1]
    assert marker not in archive.read_bytes()
    assert b"pepper_filesystem_id" not in archive.read_bytes()
    secret_key = operator.workdir / "backup-secret.asc"
    exported = subprocess.run(
        [
            "gpg",
            "--homedir",
            str(operator.backup_key.homedir),
            "--armor",
            "--export-secret-keys",
            operator.backup_key.fingerprint,
        ],
        capture_output=True,
        check=True,
    ).stdout
    secret_key.write_bytes(exported)
    secret_key.chmod(0o600)

    fresh = lab.boot("restored1")
    inventory = operator.inventory(fresh)
    operator.converge(
        inventory,
        "restore.yml",
        label="restore playbook",
        seethesigns_restore_archive=str(archive),
        seethesigns_restore_secret_key=str(secret_key),
    )
    original, restored = deployed.host, host_of(lab, fresh)
    assert onion_addresses(restored) == onion_addresses(original)
    assert restored.check_output("ls /root/seethesigns-restore 2>&1 || true").endswith(
        "No such file or directory"
    )
    # The same staff account logs in, and every report is there and decrypts offline.
    with tunnel(fresh, 8081) as staff_url:
        everything = reports_on(staff_url, deployed.credentials, operator)
    assert marker in everything
    # And the restored server is a working instance: a new report arrives.
    with tunnel(fresh, 8080) as source_url:
        make_report(source_url, "Restored server takes new reports.")
    # A second run on the restored server changes nothing either.
    again = operator.converge(inventory, label="site.yml after restore")
    assert again.recap[fresh.name]["changed"] == 0, again.output[-5000:]


def failing_source(workdir: Path) -> Path:
    """This release plus one migration that fails half way, as a bad release would."""
    folder = workdir / "failing-source"
    shutil.rmtree(folder, ignore_errors=True)
    archive = (
        subprocess.run(
            ["git", "-C", str(ROOT), "stash", "create"], capture_output=True, text=True, check=True
        ).stdout.strip()
        or "HEAD"
    )
    tree = subprocess.run(
        ["git", "-C", str(ROOT), "archive", archive], capture_output=True, check=True
    ).stdout
    folder.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=tree, check=True)
    versions = folder / "seethesigns/migrations/versions"
    heads = subprocess.run(
        [
            str(Path(__import__("sys").executable)),
            "-c",
            "from alembic.script import ScriptDirectory;"
            "from seethesigns.db import alembic_config;"
            "print(ScriptDirectory.from_config(alembic_config('sqlite://')).get_current_head())",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=folder,
    ).stdout.strip()
    (versions / "9999_fails_on_purpose.py").write_text(FAILING_MIGRATION.replace("PARENT", heads))
    return folder


def test_an_upgrade_from_the_baseline_keeps_every_report(
    operator: Operator, baseline_deployed: Future[BaselineDeployed]
) -> None:
    baseline = baseline_deployed.result(timeout=900)
    target, host, inventory = baseline.target, baseline.host, baseline.inventory
    old_release, marker = baseline.release, baseline.marker
    credentials = credentials_of(inventory, target)

    upgrade = operator.converge(inventory, label="upgrade to this commit")
    assert "Migrate the database" in upgrade.output
    new_release = host.check_output("readlink /opt/seethesigns/current")
    assert new_release != old_release
    assert host.check_output("ls /var/backups/seethesigns/").count(".tar.gpg") == 1
    assert host.check_output("ls /var/lib/seethesigns/tmp/") == ""  # no rollback copy left
    with tunnel(target, 8081) as staff_url:
        assert marker in reports_on(staff_url, credentials, operator)

    # A release whose migration fails: the playbook stops, puts the database back, and the
    # release before keeps running with every report.
    broken = operator.play(
        inventory,
        label="upgrade to a failing release",
        seethesigns_source_dir=str(failing_source(operator.workdir)),
    )
    assert broken.returncode != 0
    assert "this migration fails on purpose" in broken.output
    assert "runs again" in broken.output
    assert host.check_output("readlink /opt/seethesigns/current") == new_release
    for unit in ("seethesigns-source", "seethesigns-journalist", "seethesigns-onion"):
        assert host.service(unit).is_running, unit
    tables = host.check_output("sqlite3 /var/lib/seethesigns/seethesigns.db .tables")
    assert "half_done" not in tables
    with tunnel(target, 8081) as staff_url:
        assert marker in reports_on(staff_url, credentials, operator)
