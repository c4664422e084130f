"""Browser end-to-end tests: the real app in a real (headless) Chromium.

The app runs as ``streamlit run app.py`` on a free port for the whole session,
and each test gets a fresh browser context, so a fresh Streamlit session with
the default plan.  Playwright drives Debian's ``/usr/bin/chromium`` (or
``$BACKPLAN_CHROMIUM``); Playwright's own browser download is never used and a
missing browser fails the run, it is not skipped.

Waiting: Streamlit reruns the page after every committed input.  Tests never
sleep; they assert what they expect with Playwright's auto-retrying
``expect(...)`` (see :data:`RERUN_TIMEOUT_MS`), and use :func:`wait_for_app_idle`
only once the new value is on screen, to let the rest of that run finish.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"

#: How long one Streamlit rerun may take to show its result: generous, as the suite runs a browser and an app
#: server per core (pytest-xdist), so a rerun shares two cores with another worker's; a pass never waits it out.
RERUN_TIMEOUT_MS = 20_000
#: How long the first page load may take (cold imports, first plot).
LOAD_TIMEOUT_MS = 30_000
SERVER_START_TIMEOUT_S = 60.0
VIEWPORT = {"width": 1400, "height": 1000}
#: Streamlit's data editor: the header and each row are 35 px tall.
EDITOR_ROW_HEIGHT = 35
#: The Plan page's funnel table's columns as glide numbers them: 0 is the row selector, then #, Stage, Ratio,
#: Conversion, Lag.
STAGE_COLUMNS = {"#": 1, "Stage": 2, "Ratio": 3, "Conversion": 4, "Lag, days": 5}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_configure(config: pytest.Config) -> None:
    # Also declared in pyproject.toml; registered here so tests/e2e runs on its own too.
    config.addinivalue_line("markers", "browser: drives the running app in headless Chromium")
    # Every expect(...) waits as long as one rerun may take (Playwright's default is 5 s).
    expect.set_options(timeout=RERUN_TIMEOUT_MS)


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """One browser at a time: every browser test is in one pytest-xdist group (``--dist=loadgroup``), so they run
    on one worker, in turn, sharing its browser, while the other workers run the rest. Two browsers and two app
    servers at once on two cores left a rerun waiting long enough to race the tests that type fast."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.xdist_group("browser"))


# --------------------------------------------------------------------------- the app server


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, limit: int = 4_000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "<no output>"
    return text[-limit:] or "<empty>"


@contextmanager
def _serve(workdir: Path, port: int | None = None, extra_args: tuple[str, ...] = ()) -> Iterator[str]:
    """``streamlit run app.py`` on a free local port with its own database in ``workdir``; yields its URL.

    ``extra_args`` are more ``streamlit run`` options, such as ``--secrets.files``.
    """
    port = port or _free_port()
    env = {**os.environ, "BACKPLAN_DB": str(workdir / "backplan.duckdb")}
    stdout_path, stderr_path = workdir / "streamlit.stdout", workdir / "streamlit.stderr"
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        # Files under planner/ may be edited while the suite runs: never hot-reload them mid-test.
        "--server.fileWatcherType",
        "none",
        *extra_args,
    ]
    # Output goes to files, not pipes: a full pipe buffer would block the server.
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        proc = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=out, stderr=err)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(proc, f"{base_url}/_stcore/health", stderr_path)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of the app shared by the whole browser run (one database: the demo team loads into it once)."""
    with _serve(tmp_path_factory.mktemp("backplan-e2e")) as url:
        yield url


@pytest.fixture(scope="session")
def serve_app() -> Callable[..., AbstractContextManager[str]]:
    """``serve_app(workdir)``: an app on ``workdir/backplan.duckdb``, for a module that fills that database
    through the store first (DuckDB lets one process open the file, so nothing is written beside the app)."""
    return _serve


@pytest.fixture(scope="module")
def own_app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An app with a database of its own, for a test module whose saved reps and plans would keep the
    shared database from taking the demo team (demo data only loads into an empty database)."""
    with _serve(tmp_path_factory.mktemp("backplan-e2e-own")) as url:
        yield url


#: The sales ops person the signed-in server's secrets name (see ``signed_in_server``).
OPS_EMAIL = "ops@backplan.test"


@contextmanager
def _signed_in_app(workdir: Path, settings: str = "") -> Iterator[tuple[str, dict[str, int]]]:
    """An app with sign-in on against a real OIDC provider on localhost, holding the demo team.

    Yields the app's URL and each demo rep's plan id by name; ``settings`` are more lines of the
    secrets' ``[backplan]`` section (such as ``idle_hours = 0.01``).

    The provider (``oidc-provider-mock``) shows a form that signs in whatever
    email is typed, with that email as the ``email`` claim; the demo team's
    reps and manager have ``first.last@demo.backplan.test`` on file, and
    :data:`OPS_EMAIL` is sales ops through the secrets. The URL uses
    ``localhost``, as the redirect URI does, so the sign-in cookie is sent back.
    """
    from datetime import date

    with warnings.catch_warnings():  # the mock imports APIs Authlib deprecates, and Authlib forces those warnings on
        import authlib.deprecate  # noqa: F401  (installs that "always" filter first, so the next line wins)

        warnings.simplefilter("ignore", DeprecationWarning)
        from oidc_provider_mock import run_server_in_thread

    from planner import store
    from planner.access import SYSTEM
    from planner.demo import demo_team

    con = store.connect(workdir / "backplan.duckdb")
    try:
        team = demo_team(date.today())
        plan_ids = {
            plan.rep: plan_id for plan, plan_id in zip(team.plans, store.load_team(con, SYSTEM, team), strict=True)
        }
    finally:
        con.close()
    with run_server_in_thread() as provider:
        port = _free_port()
        secrets = workdir / "secrets.toml"
        secrets.write_text(
            "[auth]\n"
            f'redirect_uri = "http://localhost:{port}/oauth2callback"\n'
            'cookie_secret = "e2e-cookie-secret-e2e-cookie-secret-0123"\n'
            'client_id = "backplan"\n'
            'client_secret = "e2e-client-secret"\n'
            f'server_metadata_url = "http://localhost:{provider.server_port}/.well-known/openid-configuration"\n'
            "\n[backplan]\n"
            f'ops = ["{OPS_EMAIL}"]\n'
            f"{settings}\n"
        )
        with _serve(workdir, port, ("--secrets.files", str(secrets))):
            yield f"http://localhost:{port}", plan_ids


@pytest.fixture(scope="module")
def signed_in_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, int]]]:
    """An app with sign-in on, the demo team in its database (see :func:`_signed_in_app`)."""
    with _signed_in_app(tmp_path_factory.mktemp("backplan-e2e-sign-in")) as served:
        yield served


@pytest.fixture(scope="session")
def serve_signed_in() -> Callable[..., AbstractContextManager[tuple[str, dict[str, int]]]]:
    """``serve_signed_in(workdir, settings)``: another signed-in app, for settings the shared one must not have."""
    return _signed_in_app


def _wait_until_healthy(proc: subprocess.Popen[bytes], health_url: str, stderr_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    last_error: object = None
    while True:
        code = proc.poll()
        if code is not None:
            pytest.fail(
                f"`streamlit run app.py` exited with code {code} before answering {health_url}.\n"
                f"stderr:\n{_tail(stderr_path)}",
                pytrace=False,
            )
        try:
            with urllib.request.urlopen(health_url, timeout=2) as response:
                if response.read().decode().strip() == "ok":
                    return
        except (urllib.error.URLError, OSError) as error:
            last_error = error
        if time.monotonic() > deadline:
            pytest.fail(
                f"The app did not answer 'ok' at {health_url} within {SERVER_START_TIMEOUT_S:.0f} s "
                f"(last error: {last_error}).\nstderr:\n{_tail(stderr_path)}",
                pytrace=False,
            )
        time.sleep(0.2)


# --------------------------------------------------------------------------- the browser


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium driven by Playwright's sync API."""
    executable = os.environ.get("BACKPLAN_CHROMIUM", "/usr/bin/chromium")
    if not (os.path.isfile(executable) and os.access(executable, os.X_OK)):
        pytest.fail(
            f"Chromium not found at {executable!r}. The browser tests need a Chromium binary: "
            "install Debian's `chromium` package or point BACKPLAN_CHROMIUM at one. "
            "(`playwright install` is not used by this project.)",
            pytrace=False,
        )
    playwright = sync_playwright().start()
    try:
        try:
            launched = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        except PlaywrightError as error:
            pytest.fail(f"Chromium at {executable!r} did not start: {error}", pytrace=False)
        yield launched
        launched.close()
    finally:
        playwright.stop()


def _open_page(browser: Browser, url: str) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(RERUN_TIMEOUT_MS)
    try:
        tab = context.new_page()
        tab.goto(url)
        # Either the plan or a crash: a crash fails at once with Streamlit's traceback.
        rendered = tab.get_by_test_id("stMetric").first
        crashed = tab.get_by_test_id("stException").first
        expect(rendered.or_(crashed)).to_be_visible(timeout=LOAD_TIMEOUT_MS)
        if crashed.is_visible():
            pytest.fail(f"The app raised on its first load:\n{crashed.inner_text()}", pytrace=False)
        wait_for_app_idle(tab, timeout=LOAD_TIMEOUT_MS)
        yield tab
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser, app_server: str) -> Iterator[Page]:
    """A fresh Streamlit session on the Plan page, rendered and idle."""
    yield from _open_page(browser, app_server)


@pytest.fixture
def own_page(browser: Browser, own_app_server: str) -> Iterator[Page]:
    """As ``page``, on the module's own app and database."""
    yield from _open_page(browser, own_app_server)


@pytest.fixture
def open_ui(browser: Browser) -> Iterator[Callable[[str], Backplan]]:
    """``open_ui(url)``: a fresh session at ``url`` (a page showing metrics), rendered and idle, in Backplan
    helpers; every session it opened is closed after the test."""
    with ExitStack() as sessions:
        yield lambda url: Backplan(sessions.enter_context(contextmanager(_open_page)(browser, url)))


# --------------------------------------------------------------------------- helpers for the tests


#: How long the app must stay idle to count as idle: a widget's change shows in the browser at once, but the page
#: says its rerun is running only once the server's answer is back (Streamlit's own e2e tests wait too).
SETTLE_MS = 250


def wait_for_app_idle(page: Page, timeout: float = RERUN_TIMEOUT_MS) -> None:
    """Wait until the connected app has no script run in progress, and has had none start for ``SETTLE_MS``.

    Still, check the result of an interaction on screen (with ``expect``) where one is to be seen: on a
    loaded machine a rerun may start later than that.
    """
    app = page.get_by_test_id("stApp")
    expect(app).to_have_attribute("data-test-connection-state", "CONNECTED", timeout=timeout)
    expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=timeout)
    page.wait_for_timeout(SETTLE_MS)
    expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=timeout)


def type_into_grid(page: Page, select: Callable[[], None], value: str) -> None:
    """Type ``value`` into the data-editor cell ``select()`` picks, as a keyboard user does: the first key typed
    opens glide's cell editor, which then takes the whole value.

    A grid that was being drawn afresh when it was clicked (a rerun finishing on a loaded machine) does not
    open its editor: like a user, the test clicks again, up to three times, once the app is idle.
    """
    field = page.locator(".gdg-input")
    for attempt in range(3):
        wait_for_app_idle(page)
        select()
        page.keyboard.type(value[0])
        try:
            expect(field).to_be_visible(timeout=5_000)
            break
        except AssertionError:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
    field.fill(value)
    field.press("Enter")


class Backplan:
    """Locators and actions on the running app, in the words the page uses.

    Reached through the ``ui`` fixture.  The helpers live here rather than in
    an importable module because ``from conftest import ...`` would be
    ambiguous next to tests/conftest.py (whose ``app`` fixture is an AppTest).
    """

    def __init__(self, page: Page) -> None:
        self.page = page

    # ---- waiting and acting

    def wait_for_idle(self, timeout: float = RERUN_TIMEOUT_MS) -> None:
        wait_for_app_idle(self.page, timeout)

    @staticmethod
    def commit(field: Locator, value: str) -> None:
        """Type ``value`` into a number or text input and press Enter, as a user commits it."""
        field.fill(value)
        field.press("Enter")

    def type_into_cell(self, editor: Locator, column: int, row: int, value: str) -> None:
        """Select a data editor's cell with the mouse and arrow keys and type ``value``, as a keyboard user does.

        The first (left) column is clicked, then ArrowRight moves ``column`` cells on; the first key
        typed opens glide's cell editor, which then takes the whole value.
        """

        def select() -> None:
            editor.click(position={"x": 20, "y": EDITOR_ROW_HEIGHT * (row + 1) + EDITOR_ROW_HEIGHT / 2})
            for _ in range(column):
                self.page.keyboard.press("ArrowRight")

        type_into_grid(self.page, select, value)

    # ---- locators

    def metric_value(self, label: str) -> Locator:
        """The big number of the metric card whose label is exactly ``label``."""
        card = self.page.get_by_test_id("stMetric").filter(
            has=self.page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
        )
        return card.get_by_test_id("stMetricValue")

    def number_input(self, label: str) -> Locator:
        """The number field labelled ``label`` (``get_by_label`` would also match its "Help for ..." button)."""
        return self.page.get_by_role("spinbutton", name=label, exact=True)

    def slider_after(self, label: str) -> Locator:
        """The slider drawn under the number box ``label``: the two are one component (``number_pair``)."""
        return (
            self.page.get_by_test_id("stBidiComponentIsolated")
            .filter(has=self.number_input(label))
            .get_by_role("slider")
        )

    def stage_table(self) -> Locator:
        """The funnel's table on the Plan page: a row per stage, top down.

        Found by its widget key (``editor.stages.<version>`` becomes the class ``st-key-editor-stages-<version>``).
        """
        return self.page.locator("[class*='st-key-editor-stages-']").get_by_test_id("stDataFrame")

    def stage_cell(self, position: int, column: str = "Stage") -> Locator:
        """A cell of the stage at ``position`` (1 = top of the funnel), through the grid's accessible table."""
        return self.stage_table().get_by_test_id(f"glide-cell-{STAGE_COLUMNS[column]}-{position - 1}")

    def stage_name(self, position: int) -> Locator:
        """The name of the stage at ``position`` (1 = top of the funnel)."""
        return self.stage_cell(position)

    def stage_names(self) -> Locator:
        """Every stage's name, top stage first (not the won stage)."""
        return self.stage_table().locator("[data-testid^='glide-cell-2-']")

    def edit_stage(self, position: int, column: str, value: str) -> None:
        """Type ``value`` into a cell of the stage at ``position``, as a keyboard user does: click the stage's
        name, arrow to the column, type (the first key opens the cell's editor), Enter."""
        # Past the row selector and the # column, into the name (positions relative to the grid).
        steps = STAGE_COLUMNS[column] - STAGE_COLUMNS["Stage"]

        def select() -> None:
            # The table of the last run, not the one it replaces (drawn under a new key when the stages change).
            expect(self.stage_table()).to_have_count(1)
            self.stage_table().click(position={"x": 110, "y": EDITOR_ROW_HEIGHT * position + EDITOR_ROW_HEIGHT / 2})
            for _ in range(abs(steps)):
                self.page.keyboard.press("ArrowRight" if steps > 0 else "ArrowLeft")

        type_into_grid(self.page, select, value)
        self.wait_for_idle()

    def remove_stage(self, position: int) -> None:
        """Tick the row of the stage at ``position`` and delete it with the table's Delete key."""
        expect(self.stage_table()).to_have_count(1)
        table = self.stage_table()
        table.click(position={"x": 16, "y": EDITOR_ROW_HEIGHT * position + EDITOR_ROW_HEIGHT / 2})
        self.page.keyboard.press("Delete")
        self.wait_for_idle()

    def charts(self) -> Locator:
        return self.page.get_by_test_id("stPlotlyChart")

    def chart(self, title: str) -> Locator:
        """The Plotly chart whose text contains ``title``."""
        return self.charts().filter(has_text=title)

    def funnel_chart(self) -> Locator:
        """The funnel chart; its title reads "N deals, walked back through the funnel"."""
        return self.chart("walked back through the funnel")

    def funnel_values(self) -> Locator:
        """The numbers printed on the funnel bars, top stage first (Plotly ``text.bartext``)."""
        return self.funnel_chart().locator("text.bartext")

    def funnel_stage_names(self) -> Locator:
        """The stage names on the funnel's y axis (Plotly draws them bottom-up)."""
        return self.funnel_chart().locator("g.ytick text")

    def sidebar_link(self, title: str) -> Locator:
        return self.page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True)

    def cut_card_labels(self) -> list[str]:
        """The metric cards whose label is cut short: its text is wider, in the font it is drawn in, than its box."""
        cut = """m => {
            const box = m.querySelector('.stMarkdownEllipsis');
            const style = getComputedStyle(box.querySelector('p'));
            const ctx = document.createElement('canvas').getContext('2d');
            ctx.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
            return ctx.measureText(box.textContent).width > box.getBoundingClientRect().width + 0.01;
        }"""
        cards = self.page.get_by_test_id("stMetric")
        return [c.get_by_test_id("stMetricLabel").inner_text() for c in cards.all() if c.evaluate(cut)]

    # ---- artefacts

    def screenshot(self, name: str) -> Path:
        """Save the whole page (not just the viewport) to ``test-artifacts/<name>``.

        Streamlit scrolls inside its main container, so Playwright's
        ``full_page`` only shows the viewport: the window is made as tall as
        the content for the shot.  The width is kept, so charts keep their layout.
        """
        ARTIFACTS.mkdir(exist_ok=True)
        self.wait_for_idle()
        height = self.page.get_by_test_id("stMain").evaluate("main => main.scrollHeight")
        self.page.set_viewport_size({"width": VIEWPORT["width"], "height": max(VIEWPORT["height"], int(height))})
        try:
            path = ARTIFACTS / name
            self.page.screenshot(path=path, animations="disabled")
            return path
        finally:
            self.page.set_viewport_size(VIEWPORT)


@pytest.fixture
def ui(page: Page) -> Backplan:
    """The ``page`` fixture wrapped in :class:`Backplan` helpers."""
    return Backplan(page)


@pytest.fixture
def own_ui(own_page: Page) -> Backplan:
    """The ``own_page`` fixture wrapped in :class:`Backplan` helpers."""
    return Backplan(own_page)
