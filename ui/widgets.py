"""Small pieces several pages draw the same way: a download pair, a confirm-delete box, a flash message."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from planner.exports import csv_bytes, xlsx_bytes
from planner.units import markdown_text

__all__ = ["confirm_delete", "download_pair", "flash", "show_flash"]


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
