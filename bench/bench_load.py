"""Many people on the Plan page at once: rerun latency and server memory, in real headless Chromium.

    python bench/bench_load.py                       # N = 1, 5, 10, 20 sessions, 10 slider moves each
    python bench/bench_load.py --sessions 1 5 10 --moves 10 --soak-seconds 120 --soak-sessions 5
    python bench/bench_load.py --driver wire --sessions 1 10 --against /tmp/before   # in turns with the code before

Starts ``streamlit run app.py`` on a free loopback port with a fresh database,
opens N browser contexts in one headless Chromium (each a separate Streamlit
session) and has every session press an arrow key on the revenue-target slider,
wait for the new number on the "Deals needed" card, and press again. Latency is
key press to new value on screen. Memory is the server process's resident set;
server CPU per rerun tells the server's share from the N Chromium renderers,
which share this machine's cores here but run on each user's own machine in use.
The soak mode keeps sessions moving sliders and prints memory as it goes.

``--driver wire`` drives the same sessions without a browser: each is a
WebSocket speaking Streamlit's own protocol (the ``BackMsg`` a browser sends
when the slider moves), timed from the message to the run's "Deals needed"
figure and ``script_finished``. It measures what the server adds to a
person's wait when the browsers are on people's own computers, as in use,
instead of on the server's two cores.

``--servers N --postgres URL`` runs N app servers on one PostgreSQL database
(made on the server at URL, dropped afterwards) behind HAProxy with
``deploy/haproxy.cfg``, as a team deployment does; the sessions connect to the
proxy, which spreads them over the servers. ``--compare --postgres URL`` prints
DuckDB's one server beside PostgreSQL with 1 and 2 servers (all behind the
proxy, wire driver), at each ``--sessions`` (default 10 20 40). Memory and CPU
are the servers' together.

    python bench/bench_load.py --compare --postgres postgresql://postgres@127.0.0.1:5432/postgres

Targets (issue 7): p95 under 1 s at 10 sessions on a 2-core machine; memory
growth under 10% over a 10-minute soak. Issue 16: two servers on PostgreSQL
serve 20 wire sessions at p95 under 1 s, and a rerun on PostgreSQL costs no
more than 1.5× DuckDB's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import websockets
from playwright.async_api import Browser, Page, async_playwright
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: deploy/ beside bench/

from deploy import serve  # noqa: E402

CHROMIUM = os.environ.get("BACKPLAN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
#: The example plan: $385,000 at $3,850 a deal; the target slider moves in $5,000 steps.
TARGET, DEAL_SIZE, STEP = 385_000, 3_850, 5_000
LOAD_TIMEOUT_MS = 120_000
MOVE_TIMEOUT_MS = 60_000


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` in MB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) process ``pid`` has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def team_servers(workdir: Path, servers: int, postgres: str | None) -> Iterator[tuple[list[int], str]]:
    """``servers`` app servers behind HAProxy on a fresh database (PostgreSQL when ``postgres`` is its server's
    URL, else a DuckDB file); yields the servers' pids and the proxy's URL."""
    database, made = str(workdir / "backplan.duckdb"), None
    if postgres:
        import psycopg

        made = f"backplan_bench_{os.getpid()}_{servers}"
        with psycopg.connect(postgres, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {made} WITH (FORCE)")  # type: ignore[arg-type]
            admin.execute(f"CREATE DATABASE {made} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'")  # type: ignore[arg-type]
        database = urlunsplit(urlsplit(postgres)._replace(path="/" + made))
    env = {**os.environ, "BACKPLAN_DB": database, "STREAMLIT_SERVER_COOKIE_SECRET": "bench"}
    ports = [_free_port() for _ in range(servers)]
    processes: list[subprocess.Popen] = []
    try:
        for n, port in enumerate(ports):
            processes.append(serve.start_app(port, env, workdir / f"app{n + 1}.log"))
            serve.wait_healthy(f"http://127.0.0.1:{port}", processes[-1])  # one at a time: each migrates first
        proxy_port = _free_port()
        pids = [p.pid for p in processes]
        processes.append(serve.start_proxy(proxy_port, ports, workdir))
        serve.wait_healthy(f"http://127.0.0.1:{proxy_port}")
        yield pids, f"http://127.0.0.1:{proxy_port}"
    finally:
        serve.stop(processes)
        if made and postgres:
            import psycopg

            with psycopg.connect(postgres, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {made} WITH (FORCE)")  # type: ignore[arg-type]


def start_server(workdir: Path, root: Path = ROOT) -> tuple[subprocess.Popen[bytes], str]:
    """``streamlit run app.py`` of the checkout at ``root``, on a fresh database in ``workdir``."""
    port = _free_port()
    env = {**os.environ, "BACKPLAN_DB": str(workdir / "backplan.duckdb"), "PYTHONPATH": str(root)}
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none"]
    command += ["--browser.gatherUsageStats", "false"]
    with (workdir / "server.log").open("wb") as log:
        server = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the app server exited:\n{(workdir / 'server.log').read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return server, url
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the app server did not become healthy within 60 s")


class Session:
    """One browser context on the Plan page, moving the target slider one key at a time."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.target = TARGET
        #: when the page's WebSocket sent and received frames (perf_counter), for where a move's time goes
        self.sent: list[float] = []
        self.received: list[float] = []
        #: per timed move: key → the slider's value sent → the server's first reply → its last message before the
        #: figure shows → the figure on screen
        self.parts: list[tuple[float, float, float]] = []

        def watch(socket: object) -> None:
            socket.on("framesent", lambda _: self.sent.append(time.perf_counter()))  # type: ignore[attr-defined]
            socket.on("framereceived", lambda _: self.received.append(time.perf_counter()))  # type: ignore[attr-defined]

        page.on("websocket", watch)
        box = page.get_by_role("spinbutton", name="Revenue target ($)", exact=True)
        # The box and its slider are one component; before that (a checkout --against), two Streamlit widgets.
        self.slider = (
            page.get_by_test_id("stBidiComponentIsolated")
            .filter(has=box)
            .get_by_role("slider")
            .or_(
                page.get_by_test_id("stNumberInput")
                .filter(has=box)
                .locator(
                    "xpath=ancestor::*[@data-testid='stElementContainer'][1]"
                    "/following-sibling::*[@data-testid='stElementContainer'][1]"
                )
                .get_by_role("slider")
            )
        )
        self.deals = (
            page.get_by_test_id("stMetric")
            .filter(has=page.get_by_test_id("stMetricLabel").get_by_text("Deals needed", exact=True))
            .get_by_test_id("stMetricValue")
        )

    async def idle(self) -> None:
        app = self.page.get_by_test_id("stApp")
        await app.and_(self.page.locator("[data-test-script-state='notRunning']")).wait_for(timeout=MOVE_TIMEOUT_MS)

    async def move(self) -> float:
        """Press one arrow key (right, or left at the top of the range); seconds until the new figure shows."""
        up = self.target <= TARGET
        self.target += STEP if up else -STEP
        expected = f"{math.ceil(self.target / DEAL_SIZE):,}"
        await self.slider.focus()
        self.sent.clear()
        self.received.clear()
        began = time.perf_counter()
        await self.slider.press("ArrowRight" if up else "ArrowLeft")
        await self.page.wait_for_function(
            "([el, want]) => el.textContent.trim() === want",
            arg=[await self.deals.element_handle(), expected],
            polling="raf",
            timeout=MOVE_TIMEOUT_MS,
        )
        took = time.perf_counter() - began
        if self.sent:
            shown = began + took
            reply = min((t for t in self.received if t > self.sent[0]), default=math.nan)
            last = max((t for t in self.received if t <= shown), default=math.nan)
            self.parts.append((self.sent[0] - began, reply - self.sent[0], last - reply, shown - last))
        await self.idle()  # the rest of that run, before the next key (keys faster than reruns can be lost)
        return took

    async def close(self) -> None:
        await self.page.context.close()


class WireSession:
    """One Streamlit session over its WebSocket, sending what a browser sends when the target slider moves."""

    def __init__(self, socket: websockets.ClientConnection) -> None:
        self.socket = socket
        self.target = TARGET
        self.slider_id = ""
        #: The version of the target the page last drew: the browser's edit names the one it was made on.
        self.version: int | None = 0
        #: The st.fragment the slider is drawn in ("" when none): a browser's rerun request names it.
        self.fragment_id = ""

    async def rerun(self, widgets: dict[str, float]) -> dict[str, str]:
        """Ask for a rerun with these widget values; the metric cards it drew, once the run has finished.

        As the browser does, a change of a widget inside a fragment asks for a rerun of that fragment only.
        """
        message = BackMsg()
        message.rerun_script.query_string = ""
        if widgets and self.fragment_id:
            message.rerun_script.fragment_id = self.fragment_id
        for widget_id, value in widgets.items():
            state = message.rerun_script.widget_states.widgets.add()
            state.id = widget_id
            if self.version is None:
                state.double_array_value.data.append(value)
            else:
                edit = {"value": value, "version": self.version, "at": str(time.monotonic_ns())}
                state.json_value = json.dumps({"edit": edit})  # as ui/number_pair.js sends a drag
        await self.socket.send(message.SerializeToString())
        metrics = {}
        while True:
            reply = ForwardMsg()
            reply.ParseFromString(await asyncio.wait_for(self.socket.recv(), MOVE_TIMEOUT_MS / 1000))
            kind = reply.WhichOneof("type")
            if kind == "delta" and reply.delta.WhichOneof("type") == "new_element":
                element = reply.delta.new_element
                if element.WhichOneof("type") == "metric":
                    metrics[element.metric.label] = element.metric.body
                elif element.WhichOneof("type") == "bidi_component" and element.bidi_component.id.endswith(
                    "-pair.plan.target"
                ):
                    self.slider_id, self.fragment_id = element.bidi_component.id, reply.delta.fragment_id
                    self.version = json.loads(element.bidi_component.json)["version"]
                elif element.WhichOneof("type") == "slider" and "-sync.plan.target.slider." in element.slider.id:
                    # A checkout from before the box and slider were one component (--against): Streamlit's slider.
                    self.slider_id, self.fragment_id = element.slider.id, reply.delta.fragment_id
                    self.version = None
            elif kind == "script_finished":
                return metrics

    async def move(self) -> float:
        up = self.target <= TARGET
        self.target += STEP if up else -STEP
        expected = f"{math.ceil(self.target / DEAL_SIZE):,}"
        began = time.perf_counter()
        shown = (await self.rerun({self.slider_id: self.target})).get("Deals needed")
        took = time.perf_counter() - began
        if shown != expected:
            raise SystemExit(f"the page showed {shown!r} deals for a target of {self.target:,}, not {expected}")
        return took

    async def close(self) -> None:
        await self.socket.close()


AnySession = Session | WireSession


async def open_sessions(browser: Browser | None, url: str, count: int) -> list[AnySession]:
    """``count`` sessions on the Plan page: browser tabs, or WebSockets when ``browser`` is None."""
    sessions: list[AnySession] = []
    for _ in range(count):  # one at a time: a cold first load is the heaviest run
        if browser is None:
            socket = await websockets.connect(
                url.replace("http", "ws", 1) + "/_stcore/stream", subprotocols=["streamlit"], max_size=None
            )
            wire = WireSession(socket)
            await wire.rerun({})
            if not wire.slider_id:
                raise SystemExit("the Plan page drew no target slider")
            sessions.append(wire)
            continue
        context = await browser.new_context(viewport={"width": 1400, "height": 1000})
        page = await context.new_page()
        await page.goto(url)
        session = Session(page)
        await session.deals.wait_for(timeout=LOAD_TIMEOUT_MS)
        await session.idle()
        sessions.append(session)
    return sessions


async def close_sessions(sessions: list[AnySession]) -> None:
    for session in sessions:
        await session.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def run_load(
    browser: Browser | None, url: str, server_pid: int | list[int], count: int, moves: int, label: str = ""
) -> list[float]:
    """``count`` sessions moving the slider ``moves`` times each; prints a line, returns every move's seconds."""
    pids = server_pid if isinstance(server_pid, list) else [server_pid]
    sessions = await open_sessions(browser, url, count)
    await asyncio.gather(*(s.move() for s in sessions))  # warm: every session's first rerun, untimed
    before, cpu_before = sum(map(rss_mb, pids)), sum(map(cpu_seconds, pids))

    async def drive(session: AnySession) -> list[float]:
        return [await session.move() for _ in range(moves)]

    began = time.perf_counter()
    timings = [t for per_session in await asyncio.gather(*(drive(s) for s in sessions)) for t in per_session]
    elapsed = time.perf_counter() - began
    after, server_cpu = sum(map(rss_mb, pids)), sum(map(cpu_seconds, pids)) - cpu_before
    print(
        f"{label}N={count:>2}  moves={len(timings):>4}  latency p50 {statistics.median(timings) * 1000:7.0f} ms"
        f"  p95 {percentile(timings, 0.95) * 1000:7.0f} ms  max {max(timings) * 1000:7.0f} ms"
        f"  reruns/s {len(timings) / elapsed:5.1f}  server CPU/rerun {server_cpu / len(timings) * 1000:4.0f} ms"
        f"  server RSS {before:6.0f} → {after:6.0f} MB"
        f"  (p95 < 1 s: {'met' if percentile(timings, 0.95) < 1 else 'MISSED'}; load avg {os.getloadavg()[0]:.1f})",
        flush=True,
    )
    parts = [part for s in sessions for part in getattr(s, "parts", [])[1:]]  # [1:]: not the untimed warm move
    if parts:
        sent, reply, streamed, drawn = (statistics.median(column) * 1000 for column in zip(*parts, strict=True))
        print(
            f"{label}       where a move's time goes (medians): the slider's value leaves the browser {sent:.0f} ms"
            f" after the key; the server's first reply {reply:.0f} ms later; its last message before the figure"
            f" shows {streamed:.0f} ms after that; the figure on screen {drawn:.0f} ms after the last message",
            flush=True,
        )
    await close_sessions(sessions)
    return timings


async def run_soak(browser: Browser | None, url: str, server_pid: int, count: int, seconds: float) -> None:
    sessions = await open_sessions(browser, url, count)
    await asyncio.gather(*(s.move() for s in sessions))
    start_rss = rss_mb(server_pid)
    print(f"soak: {count} sessions for {seconds:.0f} s; server RSS at start {start_rss:.0f} MB", flush=True)
    deadline = time.monotonic() + seconds
    timings: list[float] = []

    async def drive(session: AnySession) -> None:
        while time.monotonic() < deadline:
            timings.append(await session.move())

    async def sample() -> None:
        began = time.monotonic()
        while time.monotonic() < deadline:
            await asyncio.sleep(min(30.0, max(0.0, deadline - time.monotonic())))
            rss = rss_mb(server_pid)
            print(
                f"  t={time.monotonic() - began:5.0f} s  RSS {rss:6.0f} MB ({(rss / start_rss - 1) * 100:+5.1f}%)"
                f"  moves so far {len(timings)}  load avg {os.getloadavg()[0]:.1f}",
                flush=True,
            )

    await asyncio.gather(sample(), *(drive(s) for s in sessions))
    end_rss = rss_mb(server_pid)
    growth = (end_rss / start_rss - 1) * 100
    print(
        f"soak: {len(timings)} moves, latency p50 {statistics.median(timings) * 1000:.0f} ms"
        f" p95 {percentile(timings, 0.95) * 1000:.0f} ms; RSS {start_rss:.0f} → {end_rss:.0f} MB ({growth:+.1f}%)"
        f"  (growth < 10%: {'met' if growth < 10 else 'MISSED'})",
        flush=True,
    )
    await close_sessions(sessions)


async def run_behind_proxy(args: argparse.Namespace) -> None:
    """``--servers N`` / ``--compare``: app servers behind HAProxy, sessions over the wire, figures per set-up."""
    setups = [("DuckDB", 1, None), ("PostgreSQL", 1, args.postgres), ("PostgreSQL", 2, args.postgres)]
    if not args.compare:
        setups = [("PostgreSQL" if args.postgres else "DuckDB", args.servers, args.postgres)]
    print(f"{os.cpu_count()} CPUs; sessions over the WebSocket protocol, through HAProxy (deploy/haproxy.cfg)")
    for engine, servers, postgres in setups:
        with (
            tempfile.TemporaryDirectory(prefix="backplan-load-") as tmp,
            team_servers(Path(tmp), servers, postgres) as (pids, url),
        ):
            label = f"{engine:<10} {servers} server{'s' if servers > 1 else ' '}  "
            for count in args.sessions:
                await run_load(None, url, pids, count, args.moves, label)


async def main_async(args: argparse.Namespace) -> None:
    if args.servers or args.compare:
        await run_behind_proxy(args)
        return
    roots = {"now": ROOT} if args.against is None else {"before": args.against.resolve(), "now": ROOT}
    with tempfile.TemporaryDirectory(prefix="backplan-load-") as tmp:
        servers: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
        try:
            for name, root in roots.items():
                folder = Path(tmp) / name
                folder.mkdir()
                servers[name] = start_server(folder, root)
                server, url = servers[name]
                print(
                    f"{name}: {root}: server pid {server.pid} at {url}; RSS idle {rss_mb(server.pid):.0f} MB;"
                    f" {os.cpu_count()} CPUs; sessions driven by"
                    f" {'Chromium' if args.driver == 'browser' else 'the WebSocket protocol'}",
                    flush=True,
                )
            if args.driver == "wire":
                await _measure(None, servers, args)
                return
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                try:
                    await _measure(browser, servers, args)
                finally:
                    await browser.close()
        finally:
            for server, _ in servers.values():
                server.terminate()
                try:
                    server.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    server.kill()


async def _measure(
    browser: Browser | None, servers: dict[str, tuple[subprocess.Popen[bytes], str]], args: argparse.Namespace
) -> None:
    """Each N in turns on every server (``--rounds`` times with ``--against``), then the soak on this checkout's."""
    for count in args.sessions:
        timings: dict[str, list[float]] = {name: [] for name in servers}
        for _ in range(args.rounds if len(servers) > 1 else 1):
            for name, (server, url) in servers.items():
                label = f"{name:<6} " if len(servers) > 1 else ""
                timings[name] += await run_load(browser, url, server.pid, count, args.moves, label)
        if len(servers) > 1:
            for name, taken in timings.items():
                print(
                    f"{name:<6} N={count:>2} all rounds: p50 {statistics.median(taken) * 1000:7.0f} ms"
                    f"  p95 {percentile(taken, 0.95) * 1000:7.0f} ms  best {min(taken) * 1000:5.0f} ms"
                    f"  (n={len(taken)})",
                    flush=True,
                )
    if args.soak_seconds > 0:
        server, url = servers["now"]
        await run_soak(browser, url, server.pid, args.soak_sessions, args.soak_seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, nargs="+", help="N values to run (default 1 5 10 20)")
    parser.add_argument("--moves", type=int, default=10, help="slider moves per session (default 10)")
    parser.add_argument("--soak-seconds", type=float, default=0, help="then soak this long (e.g. 600); 0: no soak")
    parser.add_argument("--soak-sessions", type=int, default=5, help="sessions during the soak (default 5)")
    parser.add_argument(
        "--driver",
        choices=["browser", "wire"],
        default="browser",
        help="browser: headless Chromium tabs (default); wire: Streamlit's WebSocket protocol, no rendering",
    )
    parser.add_argument("--servers", type=int, default=0, help="app servers behind HAProxy (default: one, no proxy)")
    parser.add_argument(
        "--postgres", metavar="URL", help="a PostgreSQL server to make the database on (default: a DuckDB file)"
    )
    parser.add_argument(
        "--compare", action="store_true", help="DuckDB 1 server, PostgreSQL 1 and 2 servers, behind the proxy"
    )
    parser.add_argument("--against", type=Path, help="another checkout (the code before) to measure in turns")
    parser.add_argument("--rounds", type=int, default=3, help="with --against: rounds of each N on each server")
    args = parser.parse_args()
    if args.sessions is None:
        args.sessions = [10, 20, 40] if args.compare else [1, 5, 10, 20]
    if (args.compare or args.servers > 1) and not args.postgres:
        parser.error("several servers, and --compare, need --postgres URL: a DuckDB file admits one process")
    if any(n < 1 or n > 50 for n in args.sessions) or not 0 <= args.soak_seconds <= 3_600 or args.moves < 1:
        parser.error("sessions must be 1 to 50, moves at least 1, soak at most 3600 s")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
