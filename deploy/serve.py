"""Start N Backplan app servers and HAProxy in front of them, on one machine, until Ctrl-C.

    BACKPLAN_DB=postgresql://backplan@localhost/backplan python deploy/serve.py --servers 2 --port 8500

Each server is ``streamlit run app.py`` on its own port (``--first-app-port``
and up, on 127.0.0.1); HAProxy listens on ``--port`` with ``deploy/haproxy.cfg``,
its server lines written for N servers. Every server gets the same Streamlit
cookie secret (``STREAMLIT_SERVER_COOKIE_SECRET``, made up for this run when
unset), so a browser's XSRF cookie from one is good on the others. More than
one server needs ``BACKPLAN_DB`` to be a ``postgresql://`` URL: a DuckDB file
admits one process. For a real deployment, run the servers as systemd units
(``deploy/backplan@.service``) and HAProxy as Debian's service; this script is
for trying it out, the tests and ``bench/bench_load.py --servers N``.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = Path(__file__).resolve().parent / "haproxy.cfg"
_SERVER_LINE = re.compile(r"^\s*server\s+app\d+\s.*$", re.MULTILINE)

__all__ = ["haproxy_config", "start_app", "start_proxy", "stop", "wait_healthy"]


def haproxy_config(bind: str, app_addresses: Sequence[str], template: str | None = None) -> str:
    """``deploy/haproxy.cfg`` listening on ``bind``, with one server line per address (sticky by cookie)."""
    text = CONFIG.read_text() if template is None else template
    lines = "\n".join(f"    server app{n} {address} cookie app{n}" for n, address in enumerate(app_addresses, 1))
    first = _SERVER_LINE.search(text)
    if first is None:
        raise ValueError("deploy/haproxy.cfg has no `server appN` line to replace")
    text = _SERVER_LINE.sub("", text)
    text = text[: first.start()] + lines + text[first.start() :]
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.replace('"${BACKPLAN_PROXY_BIND-127.0.0.1:8500}"', bind)


def wait_healthy(url: str, process: subprocess.Popen | None = None, timeout: float = 90) -> None:
    """Wait until ``url``/_stcore/health answers ok; raise if ``process`` exits first or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url} exited with status {process.returncode} before it was healthy")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not become healthy within {timeout:.0f} s")


def start_app(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """One ``streamlit run app.py`` on 127.0.0.1:``port`` (not waited for: see :func:`wait_healthy`)."""
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none"]
    command += ["--browser.gatherUsageStats", "false"]
    with log.open("ab") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def start_proxy(port: int, app_ports: Sequence[int], folder: Path) -> subprocess.Popen[bytes]:
    """HAProxy on 127.0.0.1:``port`` in front of the app servers on ``app_ports``, checked before it starts."""
    config = folder / "haproxy.cfg"
    config.write_text(haproxy_config(f"127.0.0.1:{port}", [f"127.0.0.1:{p}" for p in app_ports]))
    subprocess.run(["haproxy", "-c", "-q", "-f", str(config)], check=True)
    with (folder / "haproxy.log").open("ab") as out:
        return subprocess.Popen(["haproxy", "-db", "-f", str(config)], stdout=out, stderr=subprocess.STDOUT)


def stop(processes: Sequence[subprocess.Popen]) -> None:
    """Stop each process (SIGTERM, then SIGKILL after 15 s)."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", type=int, default=2, help="app servers to start (default 2)")
    parser.add_argument("--port", type=int, default=8500, help="HAProxy's port (default 8500)")
    parser.add_argument("--first-app-port", type=int, default=8501, help="the first server's port (default 8501)")
    args = parser.parse_args(argv)
    database = os.environ.get("BACKPLAN_DB", "")
    if args.servers > 1 and not database.startswith(("postgresql://", "postgres://")):
        parser.error("several servers need BACKPLAN_DB=postgresql://…: a DuckDB file admits one process")
    secret = os.environ.get("STREAMLIT_SERVER_COOKIE_SECRET") or secrets.token_hex(32)
    env = {**os.environ, "STREAMLIT_SERVER_COOKIE_SECRET": secret}
    folder = Path(tempfile.mkdtemp(prefix="backplan-serve-"))
    ports = [args.first_app_port + n for n in range(args.servers)]
    processes: list[subprocess.Popen] = []
    try:
        for n, port in enumerate(ports, 1):
            processes.append(start_app(port, env, folder / f"app{n}.log"))
        for port, process in zip(ports, processes, strict=True):
            wait_healthy(f"http://127.0.0.1:{port}", process)
        processes.append(start_proxy(args.port, ports, folder))
        wait_healthy(f"http://127.0.0.1:{args.port}")
        print(f"Backplan on http://127.0.0.1:{args.port} ({args.servers} servers; logs in {folder})", flush=True)
        signal.signal(signal.SIGTERM, _interrupt)
        while all(p.poll() is None for p in processes):
            time.sleep(1)
        print("a server or the proxy stopped; stopping the rest", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        stop(processes)
    return 0


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
