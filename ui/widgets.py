"""Small pieces several pages draw the same way: a download pair, a confirm-delete box, a flash message,
and the check that a picked value was one of the options drawn."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import pandas as pd
import streamlit as st

from planner.exports import csv_bytes, xlsx_bytes
from planner.units import markdown_text

__all__ = ["chosen", "confirm_delete", "download_pair", "flash", "offered", "show_flash"]


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
