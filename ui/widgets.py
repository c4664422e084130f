"""Small pieces several pages draw the same way: a number box with a slider, a download pair, a confirm-delete
box, a flash message, and the check that a picked value was one of the options drawn."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
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
    "edited_value",
    "flash",
    "number_pair",
    "offered",
    "show_flash",
]


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


#: The pair's browser half: the box and the slider share one value there (ui/number_pair.js).
_PAIR_ASSETS = Path(__file__).parent
_PAIR = "backplan.number_pair"


def number_pair(
    key: str,
    label: str,
    slider: Slider,
    *,
    slider_label: str,
    step: float,
    min_value: float | None = None,
    max_value: float | None = None,
    format: str | None = None,
    help: str | None = None,
) -> None:
    """An exact number box with a slider under it for dragging: one value, ``st.session_state[key]``.

    Both are drawn by one component in the browser, which keeps them showing one number, the one the user
    touched last, without waiting on the server: there is no moment in which a reply about one can overwrite
    the other. Each edit comes with a mark of its own, so the server applies an edit once and never mistakes
    the browser repeating its state for a new edit; an edit that is not a number inside the box's limits is
    refused here, whatever the browser sent. When the value moves from elsewhere (a profile, an opened plan),
    it goes to the browser under a new version, and the browser shows it (not over a number being typed).

    ``format`` is the box's (``"%.2f"``; whole numbers when not given); ``slider.format`` its ends'
    (``"localized"``: grouped digits, or ``"%.1f×"``).
    """
    state = st.session_state
    record = state.setdefault(f"sync.{key}", {"version": 0, "drawn": None})
    value = state[key]
    if value != record["drawn"]:  # moved here, not by the browser: the browser is to show it
        record["version"] += 1
        record["drawn"] = value
    record["limits"] = (min_value, max_value, isinstance(step, int) and format is None)
    # Registered on every run: a new AppTest has a registry of its own, and an unchanged definition is a no-op.
    mount = st.components.v2.component(_PAIR, css=_asset("number_pair.css"), js=_asset("number_pair.js"))
    mount(
        key=f"pair.{key}",
        data={
            "label": label,
            "help": help,
            "slider_label": slider_label,
            "value": value,
            "version": record["version"],
            "position": slider.position(value),
            "min": min_value,
            "max": max_value,
            "box_step": step,
            "decimals": _decimals(format),
            "low": slider.low,
            "high": slider.high,
            "step": slider.step,
            "slider_format": slider.format,
        },
        default={"edit": None},
        on_edit_change=partial(_edited, key),
    )


@cache
def _asset(name: str) -> str:
    return (_PAIR_ASSETS / name).read_text(encoding="utf-8")


def _decimals(format: str | None) -> int:
    """How many decimals a printf format shows: ``"%.2f"`` → 2; whole numbers when there is none."""
    found = re.fullmatch(r"%\.(\d+)f", format or "")
    return int(found.group(1)) if found else 0


def edited_value(edit: object, limits: tuple[float | None, float | None, bool]) -> float | None:
    """The number an edit from the browser sets, or None when it is not one the box could have sent.

    ``limits`` is the box's (lowest, highest, whole numbers only).

    >>> edited_value({"value": 400_000, "at": "1.1"}, (0, None, True)), edited_value({"value": -5}, (0, None, True))
    (400000, None)
    >>> edited_value({"value": "1e9"}, (0, None, True)), edited_value({"value": 2.5}, (1.0, 12.0, False))
    (None, 2.5)
    """
    value = edit.get("value") if isinstance(edit, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    low, high, whole = limits
    if (low is not None and value < low) or (high is not None and value > high):
        return None
    return round(value) if whole else float(value)


def _edited(key: str) -> None:
    state = st.session_state
    record = state[f"sync.{key}"]
    edit = (state[f"pair.{key}"] or {}).get("edit")
    value = edited_value(edit, record["limits"])
    if value is None or edit.get("version") != record["version"]:
        # Refused, or made before the browser had a value that came from elsewhere: either way the browser is
        # sent the value again, so what it shows is what the plan uses.
        record["version"] += 1
    if value is not None:
        state[key] = record["drawn"] = value


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
