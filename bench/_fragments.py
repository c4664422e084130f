"""Under AppTest, a run of one ``st.fragment`` alone, as the server runs it when a widget inside it changes.

``AppTest.run()`` always runs the whole script. A browser that changes a widget inside a fragment asks
the server to rerun that fragment only (the rerun request names it), and the server runs nothing else.
This does the same under AppTest: while :func:`fragment_runs` is active, each run's messages are kept, the
fragment that drew a widget is read from them (the ``fragment_id`` of the widget's delta), and
:func:`run_in_fragment` sends the rerun with that fragment named, exactly as the browser's request does.

Used by ``bench/bench_plan_page.py`` (timing a slider move as the server serves it) and by the Plan page
tests that check what a run of the fragment alone does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import streamlit.testing.v1.app_test as app_test_module
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import RerunData
from streamlit.testing.v1 import local_script_runner
from streamlit.testing.v1.element_tree import Widget

__all__ = ["fragment_of", "fragment_runs", "run_in_fragment"]

_messages: list[Any] = []
_next_fragment: list[str] = []
#: The pages the last whole run registered with st.navigation, for a fragment's run to know them.
_pages: dict[str, Any] = {}


class _KnownPages(PagesManager):
    """AppTest starts each run with a new PagesManager, which the server keeps for the session. A fragment's
    run does not call st.navigation, so it is given the pages the whole run registered (st.page_link needs
    them), as the server's session still has them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if _next_fragment and _pages:
            self._set_pages(dict(_pages))


@contextmanager
def fragment_runs() -> Iterator[None]:
    """While active, AppTest keeps each run's messages and can run a single fragment."""
    real_parse, real_rerun_data = local_script_runner.parse_tree_from_messages, local_script_runner.RerunData

    def parse(messages: list[Any]) -> Any:
        _messages[:] = messages
        return real_parse(messages)

    def rerun_data(**fields: Any) -> RerunData:
        if _next_fragment:
            fields["fragment_id_queue"] = list(_next_fragment)
        return real_rerun_data(**fields)

    real_pages_manager = app_test_module.PagesManager
    local_script_runner.parse_tree_from_messages = parse  # type: ignore[assignment]
    local_script_runner.RerunData = rerun_data  # type: ignore[assignment, misc]
    app_test_module.PagesManager = _KnownPages  # type: ignore[misc]
    try:
        yield
    finally:
        local_script_runner.parse_tree_from_messages = real_parse
        local_script_runner.RerunData = real_rerun_data  # type: ignore[misc]
        app_test_module.PagesManager = real_pages_manager  # type: ignore[misc]
        _messages.clear()
        _pages.clear()


def fragment_of(widget: Widget) -> str:
    """The fragment that drew ``widget`` in the last run ("" when it is outside every fragment)."""
    for message in _messages:
        if not message.HasField("delta") or message.delta.WhichOneof("type") != "new_element":
            continue
        element = message.delta.new_element
        if getattr(getattr(element, element.WhichOneof("type")), "id", None) == widget.id:
            return message.delta.fragment_id
    raise LookupError(f"no widget {widget.id!r} in the last run (is fragment_runs() active?)")


def run_in_fragment(widget: Widget) -> None:
    """Send ``widget``'s new value as the browser does: a rerun of the fragment it is in, and of nothing else."""
    fragment = fragment_of(widget)
    if not fragment:
        raise LookupError(f"{widget.id!r} is in no fragment")
    _pages.clear()
    _pages.update(widget.root._runner._registered_pages)  # AppTest keeps them, but does not pass them on
    _next_fragment[:] = [fragment]
    try:
        widget.run()
    finally:
        _next_fragment.clear()
