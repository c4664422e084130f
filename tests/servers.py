"""Real app servers for the multi-process tests: ``streamlit run`` processes on one PostgreSQL database, and
sessions that speak Streamlit's own WebSocket protocol to them, as a browser's tab does.

A :class:`WireSession` opens the Track page of a plan and edits cells of its weekly actuals table the way
the browser's data editor sends them (the editor's widget state: every edit made in it since it was drawn),
then reads what the run drew: the warning a stale write is refused with, or a toast for a failure.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import ClientConnection, connect

from deploy.serve import start_app, start_proxy, stop, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
#: How long one rerun may take on a loaded 2-core machine before a session gives up.
RERUN_TIMEOUT_S = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Team:
    """App servers (and the proxy, when started) on one database."""

    database: str
    ports: list[int]
    processes: list[subprocess.Popen]
    folder: Path
    proxy_port: int | None = None

    def url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.ports[n]}"

    def log(self, n: int) -> str:
        return (self.folder / f"app{n + 1}.log").read_text(errors="replace")[-4_000:]


@contextmanager
def app_servers(database: str, folder: Path, count: int = 2, *, proxy: bool = False) -> Iterator[Team]:
    """``count`` app servers on ``database`` (a postgresql:// URL), healthy; HAProxy in front if ``proxy``."""
    env = {**os.environ, "BACKPLAN_DB": database, "PYTHONPATH": str(ROOT), "STREAMLIT_SERVER_COOKIE_SECRET": "test"}
    env.pop("BACKPLAN_BACKUP_DIR", None)
    ports = [free_port() for _ in range(count)]
    processes = [start_app(port, env, folder / f"app{n + 1}.log") for n, port in enumerate(ports)]
    team = Team(database, ports, processes, folder)
    try:
        for n, process in enumerate(processes):
            wait_healthy(team.url(n), process)
            # One run of the app, so a test's first page is not the one that imports and compiles everything.
            first = WireSession(team.url(n))
            first.run()
            first.close()
        if proxy:
            team.proxy_port = free_port()
            processes.append(start_proxy(team.proxy_port, ports, folder))
            wait_healthy(f"http://127.0.0.1:{team.proxy_port}")
        yield team
    finally:
        stop(processes)


@dataclass
class Drawn:
    """What one run of the page drew that these tests read."""

    editors: dict[str, str] = field(default_factory=dict)  # editor key → widget id
    widgets: dict[str, str] = field(default_factory=dict)  # widget key → widget id
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    toasts: list[str] = field(default_factory=list)
    metrics: dict[str, str] = field(default_factory=dict)
    text: list[str] = field(default_factory=list)


class WireSession:
    """One Streamlit session over its WebSocket: a browser tab, without the browser."""

    def __init__(self, base_url: str) -> None:
        self._closing = ExitStack()
        self.socket: ClientConnection = self._closing.enter_context(
            connect(base_url.replace("http", "ws", 1) + "/_stcore/stream", subprotocols=["streamlit"], max_size=None)
        )
        self.page = ""
        self.query = ""
        self.editor_id = ""
        self.edits: dict[str, dict[str, float]] = {}
        self.widgets: dict[str, str] = {}

    def run(self, page: str = "", query: str = "", widgets: dict[str, str | bool] | None = None) -> Drawn:
        """Ask for a run of ``page`` with these widgets' values (text, or True for a button pressed); what it drew
        once it has finished."""
        message = BackMsg()
        message.rerun_script.query_string = query
        message.rerun_script.page_name = page
        for widget_id, value in (widgets or {}).items():
            state = message.rerun_script.widget_states.widgets.add()
            state.id = widget_id
            if value is True:
                state.trigger_value = True
            else:
                state.string_value = str(value)
        self.socket.send(message.SerializeToString())
        drawn = Drawn()
        deadline = time.monotonic() + RERUN_TIMEOUT_S
        while True:
            reply = ForwardMsg()
            reply.ParseFromString(self.socket.recv(timeout=max(0.1, deadline - time.monotonic())))
            kind = reply.WhichOneof("type")
            if kind == "delta" and reply.delta.WhichOneof("type") == "new_element":
                element = reply.delta.new_element
                which = element.WhichOneof("type")
                if which == "dataframe" and element.dataframe.id:
                    key = element.dataframe.id.rsplit("-", 1)[-1]
                    drawn.editors[key] = element.dataframe.id
                elif which == "alert" and element.alert.format == element.alert.WARNING:
                    drawn.warnings.append(element.alert.body)
                elif which == "alert" and element.alert.format == element.alert.ERROR:
                    drawn.errors.append(element.alert.body)
                elif which == "toast":
                    drawn.toasts.append(element.toast.body)
                elif which == "metric":
                    drawn.metrics[element.metric.label] = element.metric.body
                elif which == "markdown":
                    drawn.text.append(element.markdown.body)
                if which in ("text_input", "button", "selectbox") and getattr(element, which).id:
                    drawn.widgets[getattr(element, which).id.rsplit("-", 1)[-1]] = getattr(element, which).id
            elif kind == "script_finished":
                return drawn

    def open_track(self, plan_id: int) -> Drawn:
        """The Track page of ``plan_id``, as a link to it opens it."""
        self.page, self.query = "track", f"plan={plan_id}"
        self.editor_id, self.edits = "", {}  # a page opened afresh draws its editor with no edits in it
        drawn = self.run(self.page, self.query)
        self._follow(drawn, plan_id)
        return drawn

    def _follow(self, drawn: Drawn, plan_id: int) -> None:
        ids = [i for key, i in drawn.editors.items() if key.startswith(f"editor.actuals.{plan_id}.")]
        assert ids, f"the Track page drew no actuals editor for plan {plan_id}"
        if ids[0] != self.editor_id:  # drawn afresh (a new key): the browser starts with no edits in it
            self.editor_id, self.edits = ids[0], {}

    def edit(self, plan_id: int, row: int, column: str, value: float) -> Drawn:
        """Type ``value`` into one cell, as the data editor sends it: with every edit made in it before."""
        self.edits.setdefault(str(row), {})[column] = value
        payload = {"edited_rows": self.edits, "added_rows": [], "deleted_rows": []}
        drawn = self.run(self.page, self.query, {self.editor_id: json.dumps(payload)})
        self._follow(drawn, plan_id)
        return drawn

    def add_goal(self, title: str) -> Drawn:
        """On the Accounts page (the account it shows first): type a goal and press **Add goal**, as the form sends
        them."""
        self.widgets = self.run("accounts").widgets  # the page as it is now, with the form empty again
        sent = {self.widgets["accounts.new_goal.title"]: title, self.widgets["accounts.btn.add_goal"]: True}
        drawn = self.run("accounts", "", sent)
        self.widgets = drawn.widgets
        return drawn

    def close(self) -> None:
        self._closing.close()
