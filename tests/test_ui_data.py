"""One server process holds one database connection and runs one daily-backup thread, sign-in on or off.

Two copies of either (as when pages imported app.py, which Streamlit had already
run as ``__main__``) meant two backups waking in the same second into one folder.
"""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from planner import store
from planner.access import SYSTEM
from planner.demo import demo_email, demo_team
from tests.conftest import AUTH, ROOT, open_store, signed_in

#: The daily backup thread's name (ui.data.BACKUP_THREAD).
BACKUP_THREAD = "backplan-daily-backup"
PAGES = ("track", "team", "calibrate", "accounts", "guide", "plan")


@pytest.mark.parametrize("sign_in", [False, True], ids=["sign-in off", "sign-in on"])
def test_one_connection_and_one_backup_thread_whatever_pages_are_opened(
    sign_in: bool, database: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_store(database) as con:
        store.load_team(con, SYSTEM, demo_team(date.today()))
    monkeypatch.setenv("BACKPLAN_BACKUP_DIR", str(tmp_path / "nightly"))
    opened: list[str] = []
    real_connect = store.connect

    def counting_connect(path: object = None, **kwargs: object) -> object:
        opened.append(str(path))
        return real_connect(path, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "connect", counting_connect)
    before = set(threading.enumerate())

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    if sign_in:  # as sales ops, who may open every page
        at.secrets["auth"] = AUTH
        at.secrets["backplan"] = {"ops": [demo_email("Maya Brooks")]}
        at.user = signed_in(demo_email("Maya Brooks"))
    at.run()
    for page in PAGES:
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, (page, at.exception)
    assert at.title[0].value == "Plan backwards from your target"  # every page was really drawn, to the last

    started = [t for t in threading.enumerate() if t not in before and t.name == BACKUP_THREAD and t.is_alive()]
    assert opened == [str(database)]
    assert len(started) == 1


def test_the_heap_start_up_made_is_frozen_once_per_process_after_the_first_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """gc.freeze after the first run (issue 18): later runs and other sessions never freeze again."""
    import gc

    from ui import data

    frozen: list[bool] = []
    monkeypatch.setattr(data, "_frozen", False)  # as in a fresh server process
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))  # counted, not done to pytest
    first = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    assert not first.exception and frozen == [True]
    first.switch_page("pages/track.py").run()
    AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()  # another session of the same process
    assert len(frozen) == 1
