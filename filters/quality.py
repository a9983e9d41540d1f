"""Quality rules for one chunk of prose or code, and for a whole agent session.

Each rule function returns `None` when the text passes, else `(rule, detail)`: the rule
name becomes the ledger reason `filtered:<rule>`, the detail shows the measured value
against its threshold.

Speed: the counting rules (words, letters, spaces, alphanumerics) read a byte string with
one class byte per character (`char_classes`), counted with C-level bytes methods instead
of a Python loop over words or characters; only stopwords and bigrams need word strings.
"""

from __future__ import annotations

from collections import Counter
from itertools import islice
from operator import methodcaller, mul

from longweave.schemas.document import Document
from longweave.schemas.meta import STEPS
from longweave.schemas.recipe_filters import CodeRules, ProseRules, TrajectoryRules
from longweave.schemas.spans import TURN

Failure = tuple[str, str]

# Function words of English (the Gopher list); a chunk without them is rarely prose.
STOPWORDS = frozenset({"the", "be", "to", "of", "and", "that", "have", "with"})
_BULLETS = ("•", "*", "-", "‣", "◦", "·")
_STARTS_WITH_BULLET = methodcaller("startswith", _BULLETS)
_ENDS_WITH_ELLIPSIS = methodcaller("endswith", ("...", "…"))

# Character classes, one ASCII byte each: space (str.isspace), letter-like (alphanumeric
# but not a decimal digit: the regex class [^\W\d_]), decimal digit, anything else.
SPACE, LETTER, DIGIT, OTHER = b" ", b"a", b"0", b"."
# Above this many distinct non-ASCII characters one str.translate beats str.replace calls.
_MAX_REPLACED_CHARS = 64


def char_class(char: str) -> str:
    """The class byte of one character, as a one-letter string."""
    if char.isspace():
        return " "
    if char.isdecimal():
        return "0"
    return "a" if char.isalnum() else "."


_ASCII = bytes(range(128))
_CLASS_TABLE = bytes(ord(char_class(chr(i))) for i in range(128)) + OTHER * 128
_WORD_TABLE = bytes.maketrans(LETTER + DIGIT + OTHER, b"xxx")


def char_classes(text: str) -> bytes:
    """One class byte per character of `text` (see SPACE, LETTER, DIGIT, OTHER).

    Non-ASCII characters are first replaced by an ASCII character of the same class;
    there are few distinct ones in most text, so a handful of `str.replace` calls do it.
    """
    if not text.isascii():
        rest = text.encode("utf-8", "surrogatepass").translate(None, _ASCII)
        distinct = sorted(set(rest.decode("utf-8", "surrogatepass")))
        if len(distinct) > _MAX_REPLACED_CHARS:
            text = text.translate({ord(c): char_class(c) for c in distinct})
        else:
            for char in distinct:
                text = text.replace(char, char_class(char))
    return text.encode("ascii").translate(_CLASS_TABLE)


def _run_starts(classes: bytes, mark: bytes) -> int:
    """Number of runs of `mark` bytes in a string made of `mark` and spaces only."""
    return classes.count(SPACE + mark) + classes.startswith(mark)


def count_words(classes: bytes) -> int:
    """Whitespace-separated words (as `str.split` counts them)."""
    return _run_starts(classes.translate(_WORD_TABLE), b"x")


def count_letter_words(classes: bytes) -> int:
    """Words holding at least one letter-like character."""
    return _run_starts(classes.translate(None, DIGIT + OTHER), LETTER)


def lowered_words(text: str) -> list[str]:
    """`[w.lower() for w in text.split()]`, from one lower() of the whole text.

    Lower-casing never turns a space into a non-space or back, so the split is the same;
    only a capital sigma lowers differently by context, and then words are lowered alone.
    """
    return _lowered_split(text, None)


def _lowered_split(text: str, lowered: str | None) -> list[str]:
    """`lowered_words(text)`, reusing `text.lower()` when the caller already has it."""
    if "\u03a3" in text:
        return [word.lower() for word in text.split()]
    return (text.lower() if lowered is None else lowered).split()


def prose_failure(text: str, rules: ProseRules) -> Failure | None:
    """Gopher/C4-style checks of one chunk of natural language."""
    classes = char_classes(text)
    n_words = count_words(classes)
    if n_words < rules.min_words:
        return "min_words", f"{n_words} words < {rules.min_words}"
    if n_words == 0:
        return None
    mean_len = (len(classes) - classes.count(SPACE)) / n_words
    if not rules.min_mean_word_length <= mean_len <= rules.max_mean_word_length:
        return "mean_word_length", (f"{mean_len:.2f} outside [{rules.min_mean_word_length}, "
                                    f"{rules.max_mean_word_length}]")
    symbols = text.count("#") + text.count("...") + text.count("…")
    if symbols / n_words > rules.max_symbol_word_ratio:
        return "symbol_ratio", f"{symbols / n_words:.3f} > {rules.max_symbol_word_ratio}"
    alpha_share = count_letter_words(classes) / n_words
    if alpha_share < rules.min_alpha_word_share:
        return "alpha_words", f"{alpha_share:.3f} < {rules.min_alpha_word_share}"
    lowered = text.lower()
    words = _lowered_split(text, lowered)
    # only a count below the minimum is reported, so counting stops once it is reached
    stopwords = sum(1 for _ in islice(filter(STOPWORDS.__contains__, words),
                                      rules.min_stopwords))
    if stopwords < rules.min_stopwords:
        return "stopwords", f"{stopwords} < {rules.min_stopwords}"
    lines = [line for line in map(str.strip, text.splitlines()) if line]
    if lines:
        bullets = sum(map(_STARTS_WITH_BULLET, lines)) / len(lines)
        if bullets > rules.max_bullet_line_share:
            return "bullet_lines", f"{bullets:.3f} > {rules.max_bullet_line_share}"
        ellipsis = sum(map(_ENDS_WITH_ELLIPSIS, lines)) / len(lines)
        if ellipsis > rules.max_ellipsis_line_share:
            return "ellipsis_lines", f"{ellipsis:.3f} > {rules.max_ellipsis_line_share}"
        repeated = len(lines) - len(set(lines))
        if repeated / len(lines) > rules.max_duplicate_line_share:
            return "duplicate_lines", (f"{repeated / len(lines):.3f} > "
                                       f"{rules.max_duplicate_line_share}")
    if n_words > 2 and bigram_share_bound(words) > rules.max_top_bigram_share:
        share = top_bigram_share(words)
        if share > rules.max_top_bigram_share:
            return "top_bigram", f"{share:.3f} > {rules.max_top_bigram_share}"
    if rules.forbid_lorem_ipsum and "lorem ipsum" in lowered:
        return "lorem_ipsum", "contains 'lorem ipsum'"
    return None


def bigram_share_bound(lowered: list[str]) -> float:
    """An upper bound of `top_bigram_share`, from word counts (a third of its cost).

    A bigram (a, b) occurs at most min(count(a), count(b)) times, so it covers at most
    count(a)·len(a) + count(b)·len(b) characters: twice the largest count(w)·len(w). In
    prose that is far below the threshold, and the bigram count is never needed.
    """
    counts = Counter(lowered)
    mass = max(map(mul, counts.values(), map(len, counts)), default=0)
    return 2 * mass / max(sum(map(len, lowered)), 1)


def top_bigram_share(lowered: list[str]) -> float:
    """Share of characters covered by the most frequent bigram of lower-cased words
    (Gopher repetition)."""
    counts = Counter(zip(lowered, lowered[1:], strict=False))
    (first, second), n = counts.most_common(1)[0]
    if n < 2:
        return 0.0
    total = sum(map(len, lowered))
    return n * (len(first) + len(second)) / max(total, 1)


def code_failure(text: str, rules: CodeRules) -> Failure | None:
    """Checks of one source file: minified, binary-like or machine-generated code."""
    lines = text.splitlines() or [""]
    lengths = list(map(len, lines))
    longest = max(lengths)
    if longest > rules.max_line_length:
        return "max_line_length", f"{longest} > {rules.max_line_length}"
    mean_len = sum(lengths) / len(lines)
    if mean_len > rules.max_mean_line_length:
        return "mean_line_length", f"{mean_len:.1f} > {rules.max_mean_line_length}"
    classes = char_classes(text)
    visible = len(classes) - classes.count(SPACE)
    if visible:
        alnum = (classes.count(LETTER) + classes.count(DIGIT)) / visible
        if alnum < rules.min_alnum_share:
            return "alnum_share", f"{alnum:.3f} < {rules.min_alnum_share}"
    head = "\n".join(lines[: rules.marker_head_lines + 1]).lower()
    for marker in rules.autogenerated_markers:
        if marker.lower() in head:
            return "autogenerated", f"marker {marker!r} in the first lines"
    return None


def trajectory_failure(doc: Document, rules: TrajectoryRules) -> Failure | None:
    """An agent session without content, or with fewer steps than the recipe asks."""
    turns = doc.spans_with_prefix(TURN)
    if turns and not any(doc.text[s.start:s.end].strip() for s in turns):
        return "empty_session", f"{len(turns)} turns, all empty"
    steps = doc.meta.get(STEPS)
    if not isinstance(steps, int):
        steps = len(turns)
    if steps < rules.min_steps:
        return "min_steps", f"{steps} steps < {rules.min_steps}"
    return None
