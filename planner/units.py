"""Formatting numbers the way a sales team reads them."""

from __future__ import annotations

import math
import re

__all__ = [
    "CURRENCIES",
    "WORD_JOINER",
    "markdown_text",
    "money",
    "money_short",
    "plural",
    "ratio_label",
    "times",
]

#: Currency code -> symbol, in the order the plan offers them.
CURRENCIES: dict[str, str] = {"USD": "$", "EUR": "€", "GBP": "£", "CHF": "CHF ", "AUD": "A$", "CAD": "C$"}
#: What an amount in a currency Backplan does not know is shown with (the generic currency sign).
_UNKNOWN_SYMBOL = "¤ "


def _symbol(currency: str) -> str:
    """The symbol amounts in ``currency`` are shown with: a known one's, an ISO-like code's own letters, else ¤.

    Whatever else a stored currency holds (text from before it was checked) never reaches the page, where
    amounts are often shown as Markdown.
    """
    known = CURRENCIES.get(currency) if isinstance(currency, str) else None
    if known is not None:
        return known
    return f"{currency} " if isinstance(currency, str) and re.fullmatch(r"[A-Z]{3}", currency) else _UNKNOWN_SYMBOL


def money(amount: float, currency: str = "USD") -> str:
    """``amount`` with its currency symbol and thousands separators, no cents.

    >>> money(385_000)
    '$385,000'
    >>> money(-1_234.6, "GBP")
    '-£1,235'
    >>> money(5, "JPY"), money(5, "[x](http://e.vil)")
    ('JPY 5', '¤ 5')
    """
    if not math.isfinite(amount):
        return "—"
    symbol = _symbol(currency)
    sign = "-" if round(amount) < 0 else ""
    return f"{sign}{symbol}{abs(amount):,.0f}"


def money_short(amount: float, currency: str = "USD") -> str:
    """:func:`money`, or for a hundred million and more a rounded figure that fits a metric card.

    >>> money_short(76_893_039), money_short(1_737_610_923), money_short(-250_400_000, "EUR")
    ('$76,893,039', '$1.74B', '-€250M')
    """
    if not math.isfinite(amount) or abs(amount) < 1e8:
        return money(amount, currency)
    symbol = _symbol(currency)
    sign = "-" if amount < 0 else ""
    scale, unit = (1e9, "B") if abs(amount) >= 1e9 else (1e6, "M")
    return f"{sign}{symbol}{abs(amount) / scale:.3g}{unit}"


def compact(amount: float) -> str:
    """An amount in three significant figures and k / M / B, for a range in a table cell.

    >>> compact(384_200), compact(49_700), compact(950), compact(1_250_000), compact(-2_000)
    ('384k', '49.7k', '950', '1.25M', '-2k')
    """
    if not math.isfinite(amount):
        return str(amount)
    for scale, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(amount) >= scale:
            return f"{amount / scale:.3g}{unit}"
    return f"{amount:,.0f}"


def ratio_label(ratio: float) -> str:
    """A ratio as a rep says it, with the conversion rate it stands for.

    >>> ratio_label(2)
    '2 : 1 · 50%'
    >>> ratio_label(3.5)
    '3.5 : 1 · 29%'
    """
    return f"{ratio:g} : 1 · {100 / ratio:.0f}%"


def times(multiple: float) -> str:
    """A multiple such as a pipeline coverage, to two decimals at most: "3×", "8.42×".

    >>> times(3.0), times(8.417454), times(1.5)
    ('3×', '8.42×', '1.5×')
    """
    return f"{round(multiple, 2):g}×"


#: Nouns whose plural is not the noun plus "s" or "es".
_IRREGULAR = {"person": "people", "opportunity": "opportunities", "company": "companies", "activity": "activities"}


def _plural_noun(noun: str) -> str:
    *head, last = noun.split(" ")
    if last in _IRREGULAR:
        last = _IRREGULAR[last]
    elif last.endswith(("s", "x", "ch", "sh")):
        last += "es"
    else:
        last += "s"
    return " ".join([*head, last])


def plural(count: float, noun: str, many: str | None = None) -> str:
    """``count`` and ``noun``, in the plural unless the count is exactly one: "1 rep", "2 reps", "0 reps".

    The noun's last word takes the plural ("lost deal" → "lost deals"); ``many`` gives one the rule does not
    know. Whole counts show with thousands separators, others with one decimal.

    >>> plural(1, "rep"), plural(3, "rep"), plural(0, "lost deal"), plural(1_200, "week"), plural(2.5, "week")
    ('1 rep', '3 reps', '0 lost deals', '1,200 weeks', '2.5 weeks')
    >>> plural(2, "opportunity"), plural(1, "person"), plural(4, "person"), plural(2, "stage", "steps")
    ('2 opportunities', '1 person', '4 people', '2 steps')
    """
    shown = f"{count:,.0f}" if float(count).is_integer() else f"{count:,.1f}"
    return f"{shown} {noun if count == 1 else many or _plural_noun(noun)}"


#: Punctuation that Markdown, Streamlit's colour and icon syntax (":red[…]", ":material/…:") or its LaTeX
#: ("$…$") reads as markup anywhere in a line; CommonMark lets a backslash escape each of them.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]{}<>()#+!|~$:])")
#: What plain CommonMark and GitHub's tables and strikethrough read as markup inside a line: a Markdown file
#: (an exported plan) escapes only these, so it reads as typed in any editor: "Acme (EMEA): renewal".
_DOCUMENT_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
#: At the start of a line these make a list, a quote or a heading underline ("- x", "1. x", "> x", "===").
_LINE_START = re.compile(r"^(\s*)(?:([-=>])|(\d+)([.)]))")
#: At the start of a line these make a heading or a list too, where "#" and "+" are not escaped throughout.
_DOCUMENT_LINE_START = re.compile(r"^(\s*)(?:([-=>#+])|(\d+)([.)]))")
#: Where GitHub-flavoured Markdown (as Streamlit renders it) would turn plain text into a link: a URL's
#: "://", "www." and an email's "@". Escapes cannot stop it (it links the text after they are read), so an
#: invisible WORD JOINER goes in there ("https:" WORD JOINER "//x.te"): it shows as typed and is not a link.
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=\bwww)(?=\.)|(?<=@)", re.IGNORECASE)
WORD_JOINER = "\u2060"


def _escape_line_start(found: re.Match[str]) -> str:
    """A list, quote or heading mark escaped: "1. x" → "1\\. x" (a backslash escapes punctuation, never a digit)."""
    indent, mark, number, dot = found.groups()
    return f"{indent}\\{mark}" if mark else f"{indent}{number}\\{dot}"


def markdown_text(text: str, *, inline: bool = True, document: bool = False) -> str:
    r"""Text a user typed, escaped to show as typed inside Markdown: no links, emphasis, HTML or maths.

    ``inline`` folds line breaks into spaces (labels, captions, one-line fields); otherwise each line
    is kept and ended with a hard line break (notes in an exported plan). Full stops and hyphens
    inside a line stay as they are, so ordinary sentences read the same in the page's source.

    On a page (Streamlit's Markdown) a bare URL or email address would become a link, so an invisible
    :data:`WORD_JOINER` breaks it. A ``document`` (a Markdown file) escapes only what plain Markdown
    reads as markup, so brackets and colons read as typed in the file itself.

    >>> print(markdown_text("**Q1** <b>[x](http://e.vil)</b>").replace(WORD_JOINER, "{WJ}"))
    \*\*Q1\*\* \<b\>\[x\]\(http\:{WJ}//e.vil\)\</b\>
    >>> markdown_text("# not a heading\n- not a list", inline=False)
    '\\# not a heading  \n\\- not a list'
    >>> markdown_text("Acme (EMEA): *renewal*", document=True)
    'Acme (EMEA): \\*renewal\\*'
    """
    special, line_start = (_DOCUMENT_SPECIAL, _DOCUMENT_LINE_START) if document else (_MARKDOWN_SPECIAL, _LINE_START)
    lines = [special.sub(r"\\\1", line) for line in text.strip().splitlines()]
    lines = [line_start.sub(_escape_line_start, line) for line in lines]
    if not document:
        lines = [_AUTOLINK.sub(WORD_JOINER, line) for line in lines]
    if inline:
        return " ".join(line.strip() for line in lines if line.strip())
    return "  \n".join(lines)
