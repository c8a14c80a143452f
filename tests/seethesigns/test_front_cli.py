"""`seethesigns front nginx-config`."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from seethesigns.cli import main
from seethesigns.settings import CONFIG_ENV, Settings


def run(settings: Settings, *args: str) -> Result:
    """The command for the settings fixture's instance."""
    config = str(settings.data_dir / "seethesigns.toml")
    return CliRunner().invoke(
        main, ["front", "nginx-config", "--config", config, *args], env={CONFIG_ENV: None}
    )


def test_prints_the_configuration_for_the_instance(settings: Settings) -> None:
    result = run(settings, "--socket-dir", "/run/sts-test")
    assert result.exit_code == 0, result.output
    assert "listen 127.0.0.1:8080;" in result.output
    assert "server unix:/run/sts-test/source.sock;" in result.output
    assert "access_log off;" in result.output


def test_writes_the_file_whole(settings: Settings, tmp_path: Path) -> None:
    output = tmp_path / "nginx.conf"
    result = run(settings, "--output", str(output), "--app-threads", "6")
    assert result.exit_code == 0, result.output
    assert "limit_conn uploads 3;" in output.read_text()
    assert output.stat().st_mode & 0o777 == 0o644
    assert [path.name for path in output.parent.iterdir()] == ["nginx.conf"]


def test_contradictory_numbers_leave_the_old_file(settings: Settings, tmp_path: Path) -> None:
    output = tmp_path / "nginx.conf"
    output.write_text("the old configuration")
    result = run(settings, "--output", str(output), "--app-threads", "1")
    assert result.exit_code == 1
    assert "app_threads must be at least 2" in result.output
    assert "Traceback" not in result.output
    assert output.read_text() == "the old configuration"
    assert [path.name for path in tmp_path.iterdir()] == ["nginx.conf"]


def test_interfaces_on_serve_ports_are_proxied_there(settings: Settings) -> None:
    config = settings.data_dir / "seethesigns.toml"
    text = config.read_text().replace("[serve]\n", "[serve]\nsource_port = 8090\n")
    config.write_text(text)
    result = run(settings, "--socket-dir", "/run/sts-test")
    assert result.exit_code == 0, result.output
    assert "server 127.0.0.1:8090;" in result.output
    assert "server unix:/run/sts-test/journalist.sock;" in result.output


def test_https_front_serves_the_source_interface_only(settings: Settings, tmp_path: Path) -> None:
    result = run(
        settings,
        "--https-domain",
        "report.example.org",
        "--https-certificate",
        "/etc/ssl/front.pem",
        "--https-key",
        "/etc/ssl/front.key",
    )
    assert result.exit_code == 0, result.output
    https = result.output.split("## The HTTPS front", 1)[1].split("## The staff interface")[0]
    assert "listen 0.0.0.0:443 ssl;" in https
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in https
    assert "proxy_pass http://source_app;" in https
    assert "journalist" not in https
    assert "return 301 https://report.example.org$request_uri;" in https
    assert ".onion$request_uri" in https


def test_https_front_needs_a_certificate(settings: Settings) -> None:
    result = run(settings, "--https-domain", "report.example.org")
    assert result.exit_code == 1
    assert "--https-certificate and --https-key" in result.output
    assert "Traceback" not in result.output


def test_https_front_refuses_a_name_that_is_not_a_domain(settings: Settings) -> None:
    result = run(
        settings,
        "--https-domain",
        "x; access_log /tmp/log",
        "--https-certificate",
        "/c",
        "--https-key",
        "/k",
    )
    assert result.exit_code == 1
    assert "is not a domain name" in result.output


def test_without_https_nothing_listens_beyond_loopback(settings: Settings) -> None:
    result = run(settings)
    assert result.exit_code == 0, result.output
    assert "ssl" not in result.output
    listens = [line.strip() for line in result.output.splitlines() if "listen " in line]
    assert all(line.startswith("listen 127.0.0.1:") for line in listens), listens
