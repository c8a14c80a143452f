"""ansible/site.yml takes a fresh Debian 12 server to a running, hardened instance, and a second
run changes nothing."""

from __future__ import annotations

from tests.deploy.conftest import (
    Deployed,
    Operator,
    downloaded_messages,
    make_report,
    staff_token,
    tunnel,
)

UNITS = ("seethesigns-source", "seethesigns-journalist", "seethesigns-onion")


def test_services_run_under_systemd_as_their_own_user(deployed: Deployed) -> None:
    host = deployed.host
    for unit in UNITS:
        service = host.service(unit)
        assert service.is_running, unit
        assert service.is_enabled, unit
        user = host.check_output(f"systemctl show -P User {unit}.service")
        assert user == "seethesigns", (unit, user)
        pid = host.check_output(f"systemctl show -P MainPID {unit}.service")
        assert host.check_output(f"ps -o user= -p {pid}").strip() == "seethesigns"
    assert host.service("nginx").is_running
    assert host.service("tor@default").is_running
    assert host.check_output("systemctl is-enabled seethesigns-purge.timer") == "enabled"
    assert host.check_output("systemctl is-active seethesigns-purge.timer") == "active"


def test_nothing_listens_but_on_loopback_and_unix_sockets(deployed: Deployed) -> None:
    sockets = deployed.host.check_output("ss -Hltn").splitlines()
    assert sockets, "ss listed nothing"
    for line in sockets:
        local = line.split()[3]
        address = local.rsplit(":", 1)[0]
        port = local.rsplit(":", 1)[1]
        if port == "22":
            continue  # the operator's ssh (the firewall lets only it in)
        assert address in {"127.0.0.1", "[::1]"}, line
    unix = deployed.host.check_output("ss -Hlx")
    for name in ("source", "journalist"):
        assert f"/run/seethesigns/{name}.sock" in unix
    mode = deployed.host.check_output("stat -c '%a %U %G' /run/seethesigns/source.sock")
    assert mode == "660 seethesigns www-data"
    udp = deployed.host.check_output("ss -Hlun").splitlines()
    assert all(line.split()[3].rsplit(":", 1)[0] in {"127.0.0.1", "[::1]"} for line in udp), udp


def test_nginx_keeps_no_access_log(deployed: Deployed) -> None:
    config = deployed.host.check_output("nginx -T 2>/dev/null")
    assert "access_log off;" in config
    assert "access_log /" not in config
    assert "server_tokens off;" in config
    # Requests made through it leave nothing behind.
    deployed.host.check_output(
        "python3 -c \"import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/')\""
    )
    logs = deployed.host.check_output("cat /var/log/nginx/*.log 2>/dev/null || true")
    assert "127.0.0.1" not in logs
    assert "GET /" not in logs


def test_private_folders_and_files(deployed: Deployed) -> None:
    host = deployed.host
    for folder in ("/etc/seethesigns", "/var/lib/seethesigns", "/var/backups/seethesigns"):
        entry = host.file(folder)
        assert (entry.user, entry.group, entry.mode) == ("seethesigns", "seethesigns", 0o700)
    loose = host.check_output(
        "find /etc/seethesigns /var/lib/seethesigns \\( -type f ! -perm 600 \\) -o "
        "\\( -type d ! -perm 700 \\) -o \\( ! -user seethesigns \\)"
    )
    assert loose == "", loose


def test_swap_and_core_dumps_are_off(deployed: Deployed) -> None:
    host = deployed.host
    assert host.check_output("swapon --show --noheadings") == ""
    assert host.check_output("systemctl is-enabled swap.target || true") == "masked"
    for unit in UNITS:
        assert host.check_output(f"systemctl show -P LimitCORE {unit}.service") == "0"
    assert (
        "Storage=none"
        in host.file("/etc/systemd/coredump.conf.d/10-seethesigns.conf").content_string
    )
    assert (
        "hard core 0"
        in host.file("/etc/security/limits.d/10-seethesigns-no-core.conf").content_string
    )
    assert (
        "kernel.core_pattern = |/bin/false"
        in host.file("/etc/sysctl.d/90-seethesigns.conf").content_string
    )
    # Inside the nspawn target kernel.* is read-only: the playbook says it skipped, and why.
    assert "SKIPPED in a container" in deployed.first_run.output


def test_firewall_lets_in_only_ssh(deployed: Deployed) -> None:
    rules = deployed.host.check_output("nft list ruleset")
    assert "policy drop" in rules
    assert "tcp dport 22" in rules
    assert "dport 80" not in rules and "dport 8080" not in rules
    assert deployed.host.check_output("systemctl is-enabled nftables") == "enabled"


def test_unattended_security_upgrades(deployed: Deployed) -> None:
    config = deployed.host.file("/etc/apt/apt.conf.d/20auto-upgrades").content_string
    assert 'APT::Periodic::Unattended-Upgrade "1";' in config
    assert deployed.host.package("unattended-upgrades").is_installed


def test_a_report_through_nginx_is_stored_encrypted_and_decrypts_offline(
    deployed: Deployed, operator: Operator
) -> None:
    marker = "They make my cousin carry packages after school (deploy test)."
    with tunnel(deployed.target, 8080) as source_url:
        make_report(source_url, marker)
    stored = deployed.host.check_output(
        "find /var/lib/seethesigns/store -type f -name '*.gpg' | wc -l"
    )
    assert int(stored) >= 1
    plaintext_on_disk = deployed.host.run(
        "grep -rl --binary-files=text 'carry packages after school' "
        "/var/lib/seethesigns /tmp /var/tmp /var/log"
    )
    assert plaintext_on_disk.stdout == "", plaintext_on_disk.stdout
    with tunnel(deployed.target, 8081) as staff_url:
        token = staff_token(staff_url, deployed.credentials)
        blobs = downloaded_messages(staff_url, token)
    texts = [operator.submission_key.decrypt(blob) for blob in blobs]
    assert any(marker.encode() in text for text in texts), texts


def test_a_second_run_changes_nothing(deployed: Deployed, operator: Operator) -> None:
    run = operator.converge(deployed.inventory, label="second run")
    recap = run.recap[deployed.target.name]
    assert recap["failed"] == 0
    assert recap["changed"] == 0, run.output[-6000:]


def test_systemd_analyze_security_scores(
    deployed: Deployed, exposure_scores: dict[str, float]
) -> None:
    """Report each unit's exposure score, and keep the web apps' low."""
    scores = {}
    for unit in (*UNITS, "seethesigns-purge"):
        output = deployed.host.check_output(f"systemd-analyze security {unit}.service --no-pager")
        last = output.strip().splitlines()[-1]
        scores[unit] = float(last.split("exposure level for")[1].split(":")[1].split()[0])
    exposure_scores.update(scores)
    for unit, score in scores.items():
        assert score <= 2.5, (unit, score)
