"""The choices a plan is saved with, checked against the only values each can take.

A value from a select box is whatever the browser sends: Streamlit hands a
callback a string that was never among the options drawn (the widget puts its
own value back only when it is drawn again, after the callbacks have run). So
every choice a plan is written with is checked here, once, by the page's save
and again by the store's write, against a fixed list (currency, milestone shape,
cadence, fill shape, confidence) or the ids that exist (calibration profile, rep)::

    currency          one of planner.units.CURRENCIES
    milestone_shape   one of planner.milestones.SHAPES
    cadence           "auto" or one of planner.milestones.CADENCES
    milestone_fill    one of planner.milestones.FILL_SHAPES
    confidence        None (the expected case) or one of planner.calibrate.CONFIDENCE_LEVELS, with a profile
    profile_id        None, or one of the profile ids offered
    rep               a rep id offered, or a new rep's name (text, shown escaped)

>>> check_choices(PlanChoices(currency="GBP", confidence=0.9, profile_id=1)).confidence
0.9
>>> check_choices(PlanChoices(currency="[x](http://e.vil)"))  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
planner.choices.PlanChoiceError: The currency “[x](http://e.vil)” is not one Backplan offers: pick one of USD, EUR, ...
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass

from planner.calibrate import CONFIDENCE_LEVELS
from planner.funnel import Problem
from planner.milestones import CADENCES, FILL_SHAPES, SHAPES
from planner.units import CURRENCIES

__all__ = ["CADENCE_CHOICES", "PlanChoiceError", "PlanChoices", "check_choices", "choice_problems"]

#: "auto": weekly checkpoints for a period up to a quarter, else monthly.
CADENCE_CHOICES = ("auto", *CADENCES)


@dataclass(frozen=True, slots=True)
class PlanChoices:
    """What a plan is saved with besides its numbers: each one of a fixed set of values."""

    currency: str = "USD"
    milestone_shape: str = "linear"
    cadence: str = "auto"
    milestone_fill: str = "linear"
    #: the chance of hitting the target the plan's activity is built for; None: the expected case
    confidence: float | None = None
    profile_id: int | None = None


class PlanChoiceError(ValueError):
    """A plan choice outside the values it can take; ``problems`` names each."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(" ".join(p.message for p in problems))


def _shown(value: object) -> str:
    return str(value)[:60]


def _one_of(field: str, what: str, value: object, allowed: Collection[object]) -> list[Problem]:
    if isinstance(value, str) and value in allowed:
        return []
    listed = ", ".join(str(a) for a in allowed)
    return [Problem(field, f"The {what} “{_shown(value)}” is not one Backplan offers: pick one of {listed}.")]


def choice_problems(
    choices: PlanChoices,
    *,
    profile_ids: Collection[int] | None = None,
    rep: int | str | None = None,
    rep_ids: Collection[int] | None = None,
) -> list[Problem]:
    """Every choice outside its values, in the order the page shows them.

    ``profile_ids`` and ``rep_ids`` are the ids offered (None: not checked here); ``rep`` is an id
    from ``rep_ids`` or a new rep's name.

    >>> [p.field for p in choice_problems(PlanChoices(cadence="hourly", confidence=0.99), profile_ids=[1])]
    ['cadence', 'confidence']
    >>> [p.message for p in choice_problems(PlanChoices(profile_id=7), profile_ids=[1, 2], rep=5, rep_ids=[1])]
    ['The calibration profile 7 is not one you can use — apply one from the list.', 'Pick a rep from the list.']
    """
    problems = [
        *_one_of("currency", "currency", choices.currency, CURRENCIES),
        *_one_of("milestone_shape", "milestone shape", choices.milestone_shape, SHAPES),
        *_one_of("cadence", "checkpoint cadence", choices.cadence, CADENCE_CHOICES),
        *_one_of("milestone_fill", "shape for the checkpoints not typed", choices.milestone_fill, FILL_SHAPES),
    ]
    level = choices.confidence
    if level is not None and not (
        isinstance(level, (int, float)) and any(math.isclose(level, c) for c in CONFIDENCE_LEVELS)
    ):
        offered = ", ".join(f"{c:.0%}" for c in CONFIDENCE_LEVELS)
        problems.append(
            Problem("confidence", f"Plan for the expected case or a {offered} chance, not “{_shown(level)}”.")
        )
    elif level is not None and choices.profile_id is None:
        problems.append(
            Problem("confidence", "A chance of hitting the target is planned from a calibration profile: apply one.")
        )
    profile = choices.profile_id
    if profile is not None and (
        not isinstance(profile, int)
        or isinstance(profile, bool)
        or (profile_ids is not None and profile not in profile_ids)
    ):
        problems.append(
            Problem(
                "profile_id",
                f"The calibration profile {_shown(profile)} is not one you can use — apply one from the list.",
            )
        )
    if rep_ids is not None and not isinstance(rep, str) and rep not in rep_ids:
        problems.append(Problem("rep", "Pick a rep from the list."))
    return problems


def check_choices(
    choices: PlanChoices,
    *,
    profile_ids: Collection[int] | None = None,
    rep: int | str | None = None,
    rep_ids: Collection[int] | None = None,
) -> PlanChoices:
    """``choices`` as they are when every one is allowed; else :class:`PlanChoiceError` naming each that is not."""
    problems = choice_problems(choices, profile_ids=profile_ids, rep=rep, rep_ids=rep_ids)
    if problems:
        raise PlanChoiceError(problems)
    return choices
