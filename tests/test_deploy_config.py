"""What a team deployment relies on, from the files the repository ships: XSRF on, an upload limit, no secrets."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

from planner.imports import MAX_EXPORT_BYTES

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
