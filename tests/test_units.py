"""Numbers as a sales team reads them, and typed text that shows as typed (planner/units.py)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from planner.units import CURRENCIES, WORD_JOINER, markdown_text, money, plural, ratio_label


def test_money_is_whole_units_with_the_currency_symbol_and_separators() -> None:
    assert money(385_000) == "$385,000"
    assert money(3_849.5, "EUR") == "€3,850"
    assert money(1_234_567, "CHF") == "CHF 1,234,567"
    assert money(-0.4, "GBP") == "£0"  # rounds to nothing: no minus sign on a zero
    assert money(-1_500, "GBP") == "-£1,500"
    assert money(10, "NZD") == "NZD 10"  # a code the plan does not offer is written out


def test_money_that_cannot_be_worked_out_is_a_dash() -> None:
    assert money(float("inf")) == "—"
    assert money(float("nan"), "EUR") == "—"


def test_every_offered_currency_has_a_symbol() -> None:
    assert [money(1, code) for code in CURRENCIES] == ["$1", "€1", "£1", "CHF 1", "A$1", "C$1"]


def test_a_ratio_reads_as_a_rep_says_it_with_its_conversion_rate() -> None:
    assert ratio_label(2) == "2 : 1 · 50%"
    assert ratio_label(4) == "4 : 1 · 25%"
    assert ratio_label(1) == "1 : 1 · 100%"
    assert ratio_label(2.5) == "2.5 : 1 · 40%"


def test_typed_markup_is_escaped_and_sentences_stay_readable() -> None:
    assert markdown_text("Q1 plan for Ana-Lima. Done") == "Q1 plan for Ana-Lima. Done"
    assert markdown_text("**bold** <script>alert(1)</script>") == r"\*\*bold\*\* \<script\>alert\(1\)\</script\>"
    assert markdown_text(":red[alarm] $x$ :material/home:") == r"\:red\[alarm\] \$x\$ \:material/home\:"
    assert markdown_text("- not a list") == r"\- not a list"
    assert markdown_text("1. not a list") == r"1\. not a list"


def test_lines_fold_into_one_or_keep_their_breaks() -> None:
    assert markdown_text("first\n\n  second  ") == "first second"
    assert markdown_text("# heading\n> quote", inline=False) == "\\# heading  \n\\> quote"


ONE_LINE = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=60)


@given(ONE_LINE)
def test_escaped_text_reads_back_exactly_as_typed(text: str) -> None:
    escaped = markdown_text(text).replace(WORD_JOINER, "")  # the joiner is invisible
    assert re.sub(r"\\(.)", r"\1", escaped) == text.strip().replace(WORD_JOINER, "")


def test_a_typed_url_or_email_is_not_made_a_link() -> None:
    """GitHub-flavoured Markdown links bare "https://…", "www.…" and "a@b.c" after escapes are read."""
    for typed in ("Stage https://x.te", "see www.x.te today", "ana@acme.test", "HTTP://X.TE"):
        shown = markdown_text(typed)
        assert WORD_JOINER in shown
        assert not re.search(r"(?i)https?://|www\.|@\w", re.sub(r"\\(.)", r"\1", shown))
    assert markdown_text("nothing to link: 10:30 at the office") == "nothing to link\\: 10\\:30 at the office"


def test_a_markdown_file_escapes_only_markup_so_it_reads_as_typed() -> None:
    assert markdown_text("Acme (EMEA): renewal #2, 50% + $1m", document=True) == "Acme (EMEA): renewal #2, 50% + $1m"
    assert markdown_text("**bold** <b>[x](y)</b> a|b ~c~", document=True) == (
        r"\*\*bold\*\* \<b\>\[x\](y)\</b\> a\|b \~c\~"
    )
    lines = markdown_text("# heading\n+ item\n1. one", inline=False, document=True)
    assert lines == "\\# heading  \n\\+ item  \n1\\. one"  # "\\1." would show its backslash


@given(ONE_LINE)
def test_no_markup_character_is_left_bare(text: str) -> None:
    bare = re.sub(r"\\.", "", markdown_text(text))  # drop every escaped character
    assert not set(bare) & set("\\`*_[]{}<>()#+!|~$:")


def test_plural_says_one_in_the_singular_and_everything_else_in_the_plural() -> None:
    assert [plural(n, "rep") for n in (0, 1, 2, 1.0, 1.5)] == ["0 reps", "1 rep", "2 reps", "1 rep", "1.5 reps"]
    assert plural(1, "lost deal") == "1 lost deal" and plural(3, "lost deal") == "3 lost deals"
    assert plural(12_000, "activity") == "12,000 activities" and plural(2, "business") == "2 businesses"
