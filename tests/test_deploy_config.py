"""What a team deployment relies on, from the files the repository ships: XSRF on, an upload limit, no secrets."""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from planner.imports import MAX_EXPORT_BYTES
from tests.backends import REQUIRED_ENV

ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())


def tracked_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    return listed.stdout.splitlines()


def test_xsrf_protection_is_on() -> None:
    server = CONFIG["server"]
    assert server["enableXsrfProtection"] is True
    # Streamlit turns XSRF protection off again when CORS is disabled.
    assert server.get("enableCORS", True) is True


def test_uploads_are_limited_to_what_the_importer_reads() -> None:
    assert CONFIG["server"]["maxUploadSize"] == MAX_EXPORT_BYTES // 2**20 == 200


def test_the_server_runs_headless_and_reports_nothing_home() -> None:
    assert CONFIG["server"]["headless"] is True
    assert CONFIG["browser"]["gatherUsageStats"] is False


def test_no_secrets_or_user_data_are_committed() -> None:
    files = tracked_files()
    assert ".streamlit/secrets.toml" not in files
    assert not [f for f in files if f.endswith((".duckdb", ".duckdb.wal", ".env", ".pem", ".key"))]
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert ".streamlit/secrets.toml" in ignored, "a secrets file written for a deployment must never be committed"


# --------------------------------------------------------------------------- several servers behind HAProxy

DEPLOY = ROOT / "deploy"


def haproxy_check(config: Path) -> subprocess.CompletedProcess[str]:
    """``haproxy -c``: HAProxy's own reading of a config; skipped where it is not installed (failed in CI)."""
    if shutil.which("haproxy") is None:
        if os.environ.get(REQUIRED_ENV):
            pytest.fail("haproxy is not installed: .ci/run installs Debian's haproxy package")
        pytest.skip("haproxy is not installed (apt-get install haproxy)")
    return subprocess.run(["haproxy", "-c", "-f", str(config)], capture_output=True, text=True)


def test_the_shipped_proxy_config_is_valid_haproxy() -> None:
    checked = haproxy_check(DEPLOY / "haproxy.cfg")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_proxy_keeps_sessions_on_their_server_forwards_websockets_and_checks_health() -> None:
    config = (DEPLOY / "haproxy.cfg").read_text()
    lines = [line.split("#")[0].strip() for line in config.splitlines()]
    assert "mode http" in lines  # HTTP mode forwards the WebSocket Upgrade as it is
    assert "timeout tunnel 1h" in lines  # and keeps the session's WebSocket open between messages
    assert "cookie BACKPLAN_SERVER insert indirect nocache httponly" in lines  # sticky sessions
    assert "http-check send meth GET uri /_stcore/health" in lines
    servers = [line for line in lines if line.startswith("server ")]
    assert len(servers) >= 2 and all(" cookie app" in line for line in servers)
    assert "default-server check inter 2s fall 2 rise 2" in lines


def test_the_config_written_for_more_servers_is_valid_too(tmp_path: Path) -> None:
    from deploy.serve import haproxy_config

    written = haproxy_config("127.0.0.1:9500", [f"127.0.0.1:{port}" for port in (9501, 9502, 9503)])
    assert [line.split()[1] for line in written.splitlines() if line.strip().startswith("server ")] == [
        "app1",
        "app2",
        "app3",
    ]
    (tmp_path / "haproxy.cfg").write_text(written)
    checked = haproxy_check(tmp_path / "haproxy.cfg")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_each_server_is_a_systemd_unit_on_its_own_port() -> None:
    unit = (DEPLOY / "backplan@.service").read_text()
    assert "ExecStart=/opt/backplan/.venv/bin/streamlit run app.py --server.port %i --server.address 127.0.0.1" in unit
    assert "EnvironmentFile=/etc/backplan/backplan.env" in unit
    assert "Restart=always" in unit
