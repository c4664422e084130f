"""Formatting numbers the way a sales team reads them."""

from __future__ import annotations

import math

__all__ = ["CURRENCIES", "markdown_text", "money", "ratio_label"]

#: Currency code -> symbol, in the order the plan offers them.
CURRENCIES: dict[str, str] = {"USD": "$", "EUR": "€", "GBP": "£", "CHF": "CHF ", "AUD": "A$", "CAD": "C$"}


def money(amount: float, currency: str = "USD") -> str:
    """``amount`` with its currency symbol and thousands separators, no cents.

    >>> money(385_000)
    '$385,000'
    >>> money(-1_234.6, "GBP")
    '-£1,235'
    """
    if not math.isfinite(amount):
        return "—"
    symbol = CURRENCIES.get(currency, f"{currency} ")
    sign = "-" if round(amount) < 0 else ""
    return f"{sign}{symbol}{abs(amount):,.0f}"


def ratio_label(ratio: float) -> str:
    """A ratio as a rep says it, with the conversion rate it stands for.

    >>> ratio_label(2)
    '2 : 1 · 50%'
    >>> ratio_label(3.5)
    '3.5 : 1 · 29%'
    """
    return f"{ratio:g} : 1 · {100 / ratio:.0f}%"


_MARKDOWN_SPECIAL = set("\\`*_{}[]()<>#+-.!|~$:")


def markdown_text(text: str) -> str:
    r"""Text a user typed, escaped to show as typed inside Markdown: no links, emphasis, HTML or maths.

    >>> print(markdown_text("**Q1** <b>[x](http://e.vil)</b>"))
    \*\*Q1\*\* \<b\>\[x\]\(http\://e\.vil\)\</b\>
    """
    return "".join("\\" + c if c in _MARKDOWN_SPECIAL else c for c in text)
