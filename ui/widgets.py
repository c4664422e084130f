"""Small pieces several pages draw the same way: a number box with a slider, a download pair, a confirm-delete
box, a flash message, and the check that a picked value was one of the options drawn."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from planner.exports import csv_bytes, xlsx_bytes
from planner.units import markdown_text

__all__ = [
    "Slider",
    "chosen",
    "confirm_delete",
    "download_pair",
    "flash",
    "new_round",
    "number_pair",
    "offered",
    "show_flash",
]

#: Counts the page's runs; a box and a slider changed in the same browser report share a round.
ROUND = "sync.round"


@dataclass(frozen=True, slots=True)
class Slider:
    """The slider under a number box: its range, its step and how it shows its value."""

    low: float
    high: float
    step: float
    format: str = "localized"

    def position(self, value: float | None) -> float:
        """Where the slider shows ``value``: the nearest step, inside the range.

        >>> Slider(10_000, 5_000_000, 5_000).position(401_234), Slider(1.0, 12.0, 0.5).position(1.58)
        (400000, 1.5)
        """
        steps = round(((value or 0) - self.low) / self.step)
        on_step = self.low + steps * self.step
        if isinstance(self.step, int) and isinstance(self.low, int):
            on_step = int(on_step)
        return min(max(on_step, self.low), self.high)


def new_round() -> None:
    """Call at the top of a page that draws :func:`number_pair`: what changes after this is the next report."""
    st.session_state[ROUND] = st.session_state.get(ROUND, 0) + 1


def number_pair(key: str, label: str, slider: Slider, *, slider_label: str, **box: object) -> None:
    """An exact number box with a slider under it for dragging: one value, ``st.session_state[key]``.

    The value is whichever of the two the user touched last. Neither widget is
    ever written by the server: when the value moves from elsewhere (the other
    widget, a profile, an opened plan), a widget showing another value is drawn
    afresh under its next key (``sync.<key>.box.<n>``, ``sync.<key>.slider.<n>``)
    with the value as its default (a key is never used twice). Every key
    remembers the value it last had, so a report from the browser is the
    user's only when it brings a new one: the browser repeating what an older
    key showed (it sends every widget it still has, until the newer key
    reaches it) changes nothing, while a number typed into the box the browser
    still showed counts, however soon after a slider move, and that box stays
    the one drawn (Streamlit keeps a replaced widget on screen while it has
    the focus; drawing another beside it would show two). When one report
    carries both, the box typed and the slider moved before the server
    answered either, the box wins: it is the exact number, and the report does
    not say which came last.

    ``box`` goes to ``st.number_input`` (``min_value``, ``step``, ``format``, ``help``).
    """
    state = st.session_state
    record = state.setdefault(f"sync.{key}", {"box": 0, "slider": 1, "next": 2, "typed": -1, "seen": {}})
    value = state[key]
    box_key = _current(record, key, "box", value)
    slider_key = _current(record, key, "slider", slider.position(value))
    st.number_input(label, value=value, key=box_key, on_change=_typed, args=(key, box_key), **box)  # type: ignore[call-overload]
    st.slider(
        slider_label,
        min_value=slider.low,
        max_value=slider.high,
        value=slider.position(value),
        step=slider.step,
        key=slider_key,
        label_visibility="collapsed",
        format=slider.format,
        on_change=_dragged,
        args=(key, slider_key),
    )


#: How many older keys of a box or slider remember their value: far more than one rerun's worth of moves.
_REMEMBERED = 32


def _current(record: dict, key: str, widget: str, shows: object) -> str:
    """The key to draw ``widget`` under so that it shows ``shows``: the same one, or the next if it shows another."""
    seen = record["seen"]
    widget_key = f"sync.{key}.{widget}.{record[widget]}"
    if widget_key in seen and seen[widget_key] != shows:
        record[widget], record["next"] = record["next"], record["next"] + 1
        widget_key = f"sync.{key}.{widget}.{record[widget]}"
    if widget_key not in seen:
        seen[widget_key] = shows
        for old in list(seen)[:-_REMEMBERED]:
            del seen[old]
    return widget_key


def _changed(record: dict, widget_key: str) -> bool:
    """Whether the browser brings ``widget_key`` a value it has not had: the user's move, not a repeat."""
    value = st.session_state[widget_key]
    if widget_key in record["seen"] and record["seen"][widget_key] == value:
        return False
    record["seen"][widget_key] = value
    return True


def _typed(key: str, box_key: str) -> None:
    state = st.session_state
    record = state[f"sync.{key}"]
    if _changed(record, box_key):
        state[key] = state[box_key]
        record["typed"] = state.get(ROUND, 0)
        record["box"] = int(box_key.rsplit(".", 1)[1])  # the box typed into, an older one too, is the one drawn


def _dragged(key: str, slider_key: str) -> None:
    state = st.session_state
    record = state[f"sync.{key}"]
    if _changed(record, slider_key) and record["typed"] != state.get(ROUND, 0):
        state[key] = state[slider_key]  # unless the box was typed in the same report: the exact number wins
        record["slider"] = int(slider_key.rsplit(".", 1)[1])


def download_pair(what: str, frame: pd.DataFrame, stem: str) -> None:
    """CSV and Excel buttons for one table; each file is built only when its button is clicked."""
    stem = stem.replace(" ", "-").lower()
    csv_col, xlsx_col, _ = st.columns([1, 1, 3])
    csv_col.download_button(
        f"{what} as CSV",
        lambda: csv_bytes(frame),
        file_name=f"{stem}.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )
    xlsx_col.download_button(
        f"{what} as Excel",
        lambda: xlsx_bytes({what: frame}),
        file_name=f"{stem}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/download:",
        on_click="ignore",
    )


def confirm_delete(
    question: str,
    keys: tuple[str, str],
    on_yes: Callable[..., None],
    on_no: Callable[[], None],
    args: tuple = (),
    yes_label: str = "Yes, delete",
) -> None:
    """The "are you sure?" box: ``question`` (Markdown, user text escaped by the caller), then Yes and Cancel.

    ``keys`` are the two buttons' keys; "Yes" calls ``on_yes(*args)``, "Cancel" ``on_no()``.
    """
    st.warning(f"{question} This cannot be undone.", icon=":material/warning:")
    yes, no = st.columns(2)
    yes.button(yes_label, key=keys[0], on_click=on_yes, args=args, type="primary")
    no.button("Cancel", key=keys[1], on_click=on_no)


def note_card(
    where: DeltaGenerator, label: str, value: str, note: str | None = None, *, help: str | None = None
) -> None:
    """A bordered metric card whose line under the number is a note, not a change: no colour, no arrow."""
    where.metric(label, value, note, delta_color="off", delta_arrow="off", border=True, help=help)


def flash(page: str, kind: str, text: str) -> None:
    """Leave a message (``kind`` "success" or "error") for the next run of ``page`` to show at its top."""
    st.session_state[f"{page}.flash"] = (kind, text)


def show_flash(page: str) -> None:
    """Show, once, the message :func:`flash` left, as text (never Markdown).

    Always one slot, message or not: an element appearing above a page's tabs
    would re-create them on the first tab.
    """
    message, slot = st.session_state.pop(f"{page}.flash", None), st.empty()
    if message:
        kind, text = message
        if kind == "success":
            slot.success(markdown_text(text), icon=":material/check:")
        else:
            slot.error(markdown_text(text), icon=":material/error:")


def offered(value: object, options: Collection[Any]) -> bool:
    """True if ``value`` is one of ``options``, the same value of the same type.

    Streamlit hands a callback whatever a browser sent for a selectbox or radio,
    even a value that was never among its options (as text): "7" for goal 7, or
    ``True`` for 1. A callback asks this of every picked value, against the
    options the widget was drawn with (passed to it as an argument) or a fixed
    list, before using it.

    >>> offered(7, [7, 8]), offered("7", [7, 8]), offered(True, [1]), offered(None, [None, 1])
    (True, False, False, True)
    """
    return any(type(value) is type(option) and value == option for option in options)


def chosen(key: str, options: Collection[Any]) -> Any | None:
    """The value of the picker ``key`` if it is one of ``options`` (:func:`offered`), else None."""
    value = st.session_state.get(key)
    return value if offered(value, options) else None
