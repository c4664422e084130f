"""What a newcomer reads first: commands that work on a fresh machine, and no pointers outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
#: The one test command: what README shows and what .ci/run calls, character for character.
TEST_COMMAND = "pip install -e '.[test]' && python -m pytest"
VENV = "python3 -m venv .venv && . .venv/bin/activate"


def commands_before_the_first_heading() -> list[str]:
    """The lines of the code blocks above "## The pages": what a newcomer runs first, in order."""
    top = README.split("\n## ", 1)[0]
    return [line.strip() for block in re.findall(r"```bash\n(.*?)```", top, re.DOTALL) for line in block.splitlines()]


def test_a_newcomer_makes_a_virtual_environment_before_installing_anything() -> None:
    commands = commands_before_the_first_heading()
    installs = [i for i, line in enumerate(commands) if line.startswith("pip install")]
    assert VENV in commands, commands
    assert installs and commands.index(VENV) < installs[0]
    assert ".venv/" in (ROOT / ".gitignore").read_text().splitlines()


def test_the_readme_runs_the_tests_exactly_as_ci_does() -> None:
    assert TEST_COMMAND in commands_before_the_first_heading()
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert TEST_COMMAND in ci


def test_the_readme_points_only_at_files_in_the_repository() -> None:
    assert "../" not in README and "/work/" not in README
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README):  # every Markdown link and image
        if not target.startswith(("http://", "https://")):
            assert (ROOT / target).exists(), target
    # Paths on one machine (a home, a checkout, a system binary) are no instructions for another.
    assert not re.findall(r"(?<![\w.~])/(?:home|root|work|tmp|usr|opt|mnt|Users)/\S*", README)
