"""The arrows between the app's parts point one way: pages → ui → planner → planner.store, and nothing imports app.py.

Read from every module's import statements (nothing is run), so a new import
in the wrong direction fails here before it can load a second copy of the entry
script or pull Streamlit into the planner.

The layers, top down (docs/design.md, "Layout"):

- ``app.py`` is the entry script: Streamlit runs it; nothing imports it.
- ``pages/`` may import ``ui`` and ``planner`` (the store included), never another page.
- ``ui/`` may import ``planner``, never a page.
- ``planner/`` never imports ``ui``, a page or Streamlit.
- Inside the planner, only ``planner.store`` and the ``planner.cli`` entry point speak to
  the store; the store imports the planner's own types (plans, actuals, accounts) to
  store them, and the planner's pure modules never import the store.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(
    p
    for pattern in ("*.py", "pages/*.py", "ui/*.py", "planner/**/*.py", "tests/**/*.py", "bench/*.py", "data/*.py")
    for p in ROOT.glob(pattern)
)


def module_name(path: Path) -> str:
    """``planner/store/plans.py`` → ``planner.store.plans``; a package's ``__init__`` is the package."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports, by its full dotted name (``from planner import store`` → ``planner.store``)."""
    found = set()
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else module_name(path)
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the importing module's package
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def layer(module: str) -> str | None:
    """Which part of Backplan ``module`` is; None for the standard library and other packages."""
    top = module.split(".")[0]
    if module == "app" or top == "pages" or top == "ui":
        return top
    if module == "planner.store" or module.startswith("planner.store."):
        return "store"
    if module == "planner.cli":
        return "cli"
    if top == "planner":
        return "planner"
    return "streamlit" if top == "streamlit" else None


#: What each layer may import, of Backplan's layers and Streamlit.
ALLOWED = {
    "app": {"ui", "planner", "store", "streamlit"},
    "pages": {"ui", "planner", "store", "streamlit"},
    "ui": {"ui", "planner", "store", "streamlit"},
    "cli": {"planner", "store"},
    "store": {"store", "planner"},
    "planner": {"planner"},
}


def test_the_sources_are_found() -> None:
    names = {module_name(p) for p in SOURCES}
    assert {"app", "pages.plan", "ui.session", "planner.funnel", "planner.store", "planner.store.plans"} <= names


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_nothing_imports_the_entry_script(path: Path) -> None:
    assert "app" not in {name.split(".")[0] for name in imports(path)}, f"{path.name} imports app.py"


@pytest.mark.parametrize(
    "path", [p for p in SOURCES if layer(module_name(p)) in ALLOWED], ids=lambda p: str(p.relative_to(ROOT))
)
def test_imports_point_down_only(path: Path) -> None:
    own = layer(module_name(path))
    wrong = sorted(name for name in imports(path) if (to := layer(name)) is not None and to not in ALLOWED[own])
    assert wrong == [], f"{module_name(path)} ({own}) must not import {wrong}"


def test_the_rule_sees_a_wrong_arrow() -> None:
    """The check itself: a planner module importing Streamlit or the ui, and a page importing app, are caught."""
    assert layer("streamlit.runtime") not in ALLOWED["planner"]
    assert layer("ui.session") not in ALLOWED["planner"]
    assert layer("planner.store.plans") not in ALLOWED["planner"]
    assert layer("pages.track") not in ALLOWED["ui"]
    assert layer("app") not in ALLOWED["pages"]
