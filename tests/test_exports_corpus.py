"""The CRM export corpus: every file through `backplan calibrate --json` and through the Calibrate page, both
agreeing with the figures worked out by hand in its sidecar (``tests/data/exports/<name>.expected.json``).

A sidecar holds ``comment`` (the arithmetic), optional ``args`` (the command line's choices, which the page test
makes on the page's own widgets: column pickers for ``--map``, the stage table for ``--won`` / ``--lost``),
an optional ``history`` (a stage-history file uploaded with it) and ``expected``.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import metric

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "exports"
SIDECARS = sorted(CORPUS.glob("*.expected.json"))


def export_of(sidecar: Path) -> Path:
    stem = sidecar.name.removesuffix(".expected.json")
    found = [p for p in CORPUS.iterdir() if p.stem == stem and not p.name.endswith(".json")]
    assert len(found) == 1, f"{sidecar.name}: expected one export named {stem}.*, found {found}"
    return found[0]


def case(sidecar: Path) -> dict:
    return json.loads(sidecar.read_text(encoding="utf-8"))


def pairs(args: list[str], flag: str) -> list[str]:
    return [args[i + 1] for i, a in enumerate(args) if a == flag]


def test_every_crm_named_in_the_issue_has_a_file() -> None:
    presets = {case(s)["expected"]["preset"] for s in SIDECARS}
    assert presets >= {"salesforce", "salesforce_report", "salesforce_history", "hubspot", "hubspot_api", "zoho",
                       "dynamics", "odoo", "bitrix24", "pipedrive", "generic"}  # fmt: skip
    suffixes = {export_of(s).suffix for s in SIDECARS}
    assert {".csv", ".xlsx", ".txt"} <= suffixes
    assert all(case(s)["comment"] for s in SIDECARS)


# --------------------------------------------------------------------------- the command line


def cli_report(sidecar: Path) -> dict:
    body = case(sidecar)
    files = [str(export_of(sidecar))] + ([str(CORPUS / body["history"])] if "history" in body else [])
    done = subprocess.run(
        [sys.executable, "-m", "planner.cli", "calibrate", *files, *body.get("args", []), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert "NaN" not in done.stdout and "Infinity" not in done.stdout
    return json.loads(done.stdout)


@pytest.mark.parametrize("sidecar", SIDECARS, ids=lambda p: p.name.removesuffix(".expected.json"))
def test_the_command_line_gives_the_figures_worked_out_by_hand(sidecar: Path) -> None:
    expected = case(sidecar)["expected"]
    report = cli_report(sidecar)
    for key in ("preset", "rows", "bad_rows", "won", "lost", "open"):
        assert report[key] == expected[key], key
    for key in ("win_rate", "win_rate_value", "avg_deal_size", "median_deal_size", "median_cycle_days",
                "suggested_coverage"):  # fmt: skip
        assert report[key] == pytest.approx(expected[key]), key
    conversion = [[c["from"], c["to"], c["reached"], c["advanced"]] for c in report["stage_conversion"]]
    assert conversion == expected["stage_conversion"]
    product = 1.0
    for c in report["stage_conversion"]:
        product *= c["rate"]
    assert product == pytest.approx(report["win_rate"])  # the funnel multiplies out to the win rate
    if "lag_days" in expected:
        assert report["lag_days"] == pytest.approx(expected["lag_days"])
    if "currency" in expected:
        assert report["currency"] == expected["currency"]
    for code, figures in expected.get("by_currency", {}).items():
        got = next(c for c in report["by_currency"] if c["currency"] == code)
        for key, value in figures.items():
            assert got[key] == pytest.approx(value), (code, key)
    for words in expected.get("notes_include", []):
        assert any(words in note for note in report["notes"]), (words, report["notes"])
    if "problems" in expected:
        assert [[p["row"], p["column"], p["left_out_of"]] for p in report["problems"]] == expected["problems"]
    if "owners" in expected:
        assert sorted(o["owner"] for o in report["by_owner"]) == sorted(expected["owners"])
    for stage in expected.get("stages_include", []):
        assert stage in report["stages"], (stage, report["stages"])


def side_by_side_report(sidecar: Path, overlap_bytes: int, read_ahead_rows: int) -> dict:
    """The command line's report with big-file reading (parsing while the bytes are checked, typing columns on
    threads) switched on from ``overlap_bytes`` and ``read_ahead_rows``."""
    body = case(sidecar)
    code = (f"import planner.imports as i; i._OVERLAP_BYTES = {overlap_bytes}; i._READ_AHEAD_ROWS = {read_ahead_rows}; "
            "from planner.cli import main; raise SystemExit(main())")  # fmt: skip
    files = [str(export_of(sidecar))] + ([str(CORPUS / body["history"])] if "history" in body else [])
    done = subprocess.run([sys.executable, "-c", code, "calibrate", *files, *body.get("args", []), "--json"],
                          capture_output=True, text=True, timeout=120, check=False, cwd=ROOT)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("sidecar", SIDECARS, ids=lambda p: p.name.removesuffix(".expected.json"))
def test_a_big_file_is_read_as_a_small_one_is(sidecar: Path) -> None:
    # The corpus files are small: here every one takes the paths only a big export takes (among them a file with
    # control characters and ones in Windows code pages, whose bytes must be cleaned or decoded before parsing).
    assert side_by_side_report(sidecar, 0, 0) == side_by_side_report(sidecar, 2**62, 2**62)


# --------------------------------------------------------------------------- the page


def source(path: Path) -> dict:
    data = path.read_bytes()
    return {"name": path.name, "data": data, "digest": hashlib.sha256(data).hexdigest()}


def page_with(app: AppTest, sidecar: Path) -> AppTest:
    """The Calibrate page after the user gave the file (and its history) and made the sidecar's choices."""
    body = case(sidecar)
    args = body.get("args", [])
    at = app.switch_page("pages/calibrate.py").run()
    at.session_state["calibrate.source"] = source(export_of(sidecar))
    if "history" in body:
        at.session_state["calibrate.history_source"] = source(CORPUS / body["history"])
    at.run()
    assert not at.exception, at.exception
    for choice in pairs(args, "--map"):
        field, column = choice.split("=", 1)
        at.selectbox(key=f"calibrate.map.{field}").set_value(column).run()
        assert not at.exception, at.exception
    outcomes = {**dict.fromkeys(pairs(args, "--won"), "won"), **dict.fromkeys(pairs(args, "--lost"), "lost")}
    if outcomes:
        # What the stage table's editor leaves behind when the user picks an outcome for each stage.
        frame = at.session_state["calibrate.stages"].copy()
        frame["Outcome"] = [outcomes.get(s, o) for s, o in zip(frame["Stage"], frame["Outcome"], strict=True)]
        at.session_state["calibrate.stages"] = frame
        at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def shown(text: str) -> float:
    """The number a metric card shows ("63.0%", "11,667", "43 days", "1.5×")."""
    return float(re.sub(r"[^\d.\-]", "", text.split()[0]))


def table(at: AppTest, first_column: str) -> pd.DataFrame:
    found = [d.value for d in at.dataframe if first_column in d.value.columns]
    assert found, f"no table with a {first_column!r} column"
    return found[0]


@pytest.mark.parametrize("sidecar", SIDECARS, ids=lambda p: p.name.removesuffix(".expected.json"))
def test_the_page_shows_the_same_figures_as_the_command_line(app: AppTest, sidecar: Path) -> None:
    expected = case(sidecar)["expected"]
    at = page_with(app, sidecar)
    assert metric(at, "Rows read") == f"{expected['rows']:,}"
    assert metric(at, "Rows left out") == f"{expected['bad_rows']:,}"
    # The page rounds for display: each figure must be the hand-worked one to within half its last digit.
    assert shown(metric(at, "Win rate")) == pytest.approx(expected["win_rate"] * 100, abs=0.05 + 1e-9)
    assert shown(metric(at, "Average deal size")) == pytest.approx(expected["avg_deal_size"], abs=0.5 + 1e-9)
    assert shown(metric(at, "Sales cycle")) == pytest.approx(expected["median_cycle_days"], abs=0.5 + 1e-9)
    assert shown(metric(at, "Suggested coverage")) == pytest.approx(expected["suggested_coverage"], abs=0.05 + 1e-9)
    assert at.selectbox(key="calibrate.preset").value == expected["preset"]
    caption = " ".join(c.value for c in at.caption)
    assert f"{expected['won']:,} won · {expected['lost']:,} lost · {expected['open']:,} still open" in caption
    conversion = table(at, "From")
    assert conversion[["From", "To", "Reached", "Advanced"]].values.tolist() == expected["stage_conversion"]
    if "by_currency" in expected:
        currencies = table(at, "Currency").set_index("Currency")
        for code, figures in expected["by_currency"].items():
            assert currencies.loc[code, "Won"] == figures["won"]
            assert currencies.loc[code, "Win rate"] == pytest.approx(figures["win_rate"] * 100)
    infos = [i.value for i in at.info]
    for words in expected.get("notes_include", []):
        assert any(words in note for note in infos), (words, infos)
    if "problems" in expected:
        problems = table(at, "Row")
        assert problems[["Row", "Column", "Left out of"]].values.tolist() == expected["problems"]
    for stage in expected.get("stages_include", []):
        assert stage in at.session_state["calibrate.stages"]["Stage"].tolist()
