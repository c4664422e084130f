"""Under AppTest, the number box and slider ``ui.widgets.number_pair`` draws as one browser component.

AppTest draws a component it does not know as an ``UnknownElement`` and sends nothing for it. :class:`Pair`
makes one behave as the browser's half does: it reads what the page drew and sends the next run an edit
(``{"edit": {"value", "version", "at"}}``), as ``ui/number_pair.js`` does when the user types or drags.
Used by the tests (``box``, ``slider`` in tests/conftest.py) and by ``bench/bench_plan_page.py``.
"""

from __future__ import annotations

import json
import time
from typing import cast

from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import UnknownElement, Widget

__all__ = ["Pair", "pairs"]


class Pair(Widget):
    """A number box or the slider under it (``ui.widgets.number_pair``), as AppTest reaches the one component
    that draws both: ``value`` is what the page drew, ``set_value`` sends the next run an edit as the browser
    does when the user types or drags."""

    side: str
    edit: dict | None

    @staticmethod
    def of(element: UnknownElement, side: str) -> Pair:
        element.__class__ = Pair
        pair = cast(Pair, element)
        pair.id, pair.side, pair.edit, pair.disabled = element.proto.id, side, None, False
        return pair

    @property
    def drawn(self) -> dict:
        return json.loads(self.proto.json)

    @property
    def label(self) -> str:  # type: ignore[override]
        return self.drawn["label" if self.side == "box" else "slider_label"]

    @property
    def value(self) -> float:
        return self.drawn["value" if self.side == "box" else "position"]

    def set_value(self, value: float) -> Pair:
        self.edit = {"value": value, "version": self.drawn["version"], "at": str(time.monotonic_ns())}
        return self

    @property
    def _widget_state(self) -> WidgetState:
        state = WidgetState(id=self.id)
        state.json_value = json.dumps({"edit": self.edit} if self.edit else dict(self.root.session_state[self.id]))
        return state


def pairs(at: AppTest, side: str) -> list[Pair]:
    """Every number pair on the page as its ``side`` ("box" or "slider") is labelled."""
    return [Pair.of(e, side) for e in at.get("bidi_component") if '"slider_label"' in e.proto.json]
