"""Book families: characters and places across chapters, found without a model.

Names come from capitalised-token statistics over the usable text: a word counts as a
name when it is capitalised at least `MIN_MENTIONS` times, at least 70% of those in the
middle of a sentence (after an honorific like "Mr." counts as the middle), and its
lower-case form is at most 5% as common (so "Well" or "However" never qualify). The
chapters are the reader's `chapter:` spans. Checkers search the text for the name again.
"""

from __future__ import annotations

import functools
import re
from collections import Counter

from longweave.schemas.document import Document
from longweave.synth.families.base import (
    Family,
    Grounded,
    Unit,
    chapters,
    covers,
    quote,
    unit_at,
)

MIN_MENTIONS = 6
MAX_NAMES = 60
# A whole word of 3+ letters, capitalised (or all lower case): nothing of [\w'’-] touches it.
# The "nothing before" test sits after the first letter, as a two-character look-behind,
# so the scan jumps between capitals instead of trying every position: same matches.
_CAPITALISED = re.compile(r"([A-Z](?<![\w'’-].)[a-z]{2,})(?![\w'’-])")
_LOWER_WORD = re.compile(r"[a-z](?<![\w'’-].)[a-z]{2,}(?![\w'’-])")
_HONORIFIC = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|St|Mme|Mlle|Capt|Col|Gen|Rev|Sir|Lady|Lord|Miss)\.?\s*$")
_SENTENCE_START = re.compile(r"(?:^|[.!?;:\"“”‘’'(\[—–-]\s*|\n\s*)$")
_SENTENCE_GAP = re.compile(r"[.!?][\"”’']?\s+")
_SENTENCE_END = re.compile(r"[.!?][\"”’']?(?=\s|$)")
_NOT_NAMES = frozenset("""
the and but for not you all this that with have from they what when where which who why
how there then than their these those some such very yes well now here chapter part book
volume letter section preface contents introduction footnote illustration monday tuesday
wednesday thursday friday saturday sunday january february march april may june july august
september october november december christmas god heaven english french french latin
""".split())


def name_mentions(text: str, lo: int, hi: int) -> dict[str, list[int]]:
    """Names found by capitalisation statistics in text[lo:hi], with every mention's offset.

    The cheap tests (enough mentions, rare in lower case) run first over whole-word counts
    made in C; the per-mention sentence-position test then runs only for the few words
    left, instead of for every capitalised word of the book."""
    mentions: dict[str, list[int]] = {}
    for match in _CAPITALISED.finditer(text, lo, hi):
        mentions.setdefault(match.group(1), []).append(match.start())
    lower = Counter(_LOWER_WORD.findall(text[lo:hi]))
    names: dict[str, list[int]] = {}
    for word, found in mentions.items():
        if (len(found) < MIN_MENTIONS or word.lower() in _NOT_NAMES
                or lower[word.lower()] > 0.05 * len(found)):
            continue
        if _mid_sentence(text, lo, found) >= 0.7 * len(found):
            names[word] = found
    top = sorted(names, key=lambda w: (-len(names[w]), w))[:MAX_NAMES]
    return {w: names[w] for w in sorted(top)}


def _mid_sentence(text: str, lo: int, positions: list[int]) -> int:
    """How many of a word's mentions sit mid-sentence (after an honorific counts)."""
    middle = 0
    for pos in positions:
        before = text[max(lo, pos - 12):pos]
        if _HONORIFIC.search(before) or not _SENTENCE_START.search(before):
            middle += 1
    return middle


def sentence_at(text: str, pos: int, lo: int, hi: int, max_chars: int = 300) -> tuple[int, int]:
    """The sentence around `pos` (within its paragraph), at most about `max_chars` long;
    a cut sentence starts and ends at a word boundary."""
    para_lo = text.rfind("\n\n", lo, pos)
    para_lo = lo if para_lo < 0 else para_lo + 2
    para_hi = text.find("\n\n", pos, hi)
    para_hi = hi if para_hi < 0 else para_hi
    start = max(para_lo, pos - max_chars // 2)
    for m in _SENTENCE_GAP.finditer(text, start, pos):
        if not _HONORIFIC.search(text[max(lo, m.start() - 6):m.start() + 1]):
            start = m.end()
    if start > para_lo and not _SENTENCE_GAP.match(text, start - 2) and not text[start - 1].isspace():
        while start < pos and not text[start].isspace():
            start += 1
    limit = min(para_hi, pos + max_chars // 2)
    end = limit
    for m in _SENTENCE_END.finditer(text, pos, limit):
        if not _HONORIFIC.search(text[max(lo, m.start() - 6):m.start() + 1]):
            end = m.end()
            break
    else:
        while end > pos and end < para_hi and not text[end].isspace():
            end -= 1
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _usable(doc: Document, limit: int) -> list[Unit]:
    """Chapters inside the usable prefix, front matter aside (a contents list is no story)."""
    return [c for c in chapters(doc, limit) if not c.name.startswith("(")]


def _mentions(doc: Document, limit: int) -> tuple[list[Unit], dict[str, tuple[int, ...]]]:
    parts = _usable(doc, limit)
    if len(parts) < 2:
        return parts, {}
    return parts, _chapter_mentions(doc.text, tuple(parts))


@functools.lru_cache(maxsize=8)
def _chapter_mentions(text: str, parts: tuple[Unit, ...]) -> dict[str, tuple[int, ...]]:
    """Each name's mentions inside the chapters (cached and read-only: the three book
    families search the same row and prefix one after another, and the name statistics
    over a whole book are most of what a finder costs; a str caches its hash)."""
    found = name_mentions(text, parts[0].start, parts[-1].end)
    inside = covers(parts)
    return {w: tuple(m for m in ms if inside(m)) for w, ms in found.items()}


def _chapter(parts: list[Unit], pos: int) -> str:
    unit = unit_at(parts, pos)
    return unit.name if unit else "?"


def _span_of_name(doc: Document, parts: list[Unit], pos: int) -> tuple[int, int]:
    unit = unit_at(parts, pos)
    return sentence_at(doc.text, pos, unit.body_start, unit.end)


def find_first_last(doc: Document, limit: int) -> list[Grounded]:
    parts, names = _mentions(doc, limit)
    out = []
    for name, ms in names.items():
        first, last = ms[0], ms[-1]
        c1, c2 = _chapter(parts, first), _chapter(parts, last)
        if c1 == c2:
            continue
        e1, e2 = _span_of_name(doc, parts, first), _span_of_name(doc, parts, last)
        out.append(Grounded(
            "book_first_last",
            f"Where in the text above does \"{name}\" first appear, and where last? Name both "
            "chapters and quote the sentence of each mention.",
            f"\"{name}\" first appears in {c1}: \"{quote(doc.text, e1)}\"\n"
            f"and last in {c2}: \"{quote(doc.text, e2)}\"",
            [e1, e2], None, {"name": name, "chapters": [c1, c2], "mentions": [first, last],
                             "limit": parts[-1].end}, name,
            keep=e1))  # a window from before the first mention asks about it again
    return out


def _check_mentions(doc: Document, g: Grounded, name: str, positions: list[int]) -> list[str]:
    for pos, span in zip(positions, g.evidence, strict=False):
        if not (span[0] <= pos < span[1]) or quote(doc.text, span).find(name) < 0:
            return [f"evidence does not hold the mention of {name} at {pos}"]
    return []


def _all_mentions(doc: Document, name: str, parts: list[Unit]) -> list[int]:
    pattern = re.compile(rf"(?<![\w'’-]){re.escape(name)}(?![\w'’-])")
    return [m.start() for m in pattern.finditer(doc.text, parts[0].start, parts[-1].end)
            if unit_at(parts, m.start())]


def check_first_last(doc: Document, g: Grounded) -> list[str]:
    name = g.facts["name"]
    parts = _usable(doc, g.facts["limit"])
    found = _all_mentions(doc, name, parts)
    if not found:
        return [f"{name} is not in the text"]
    if [found[0], found[-1]] != g.facts["mentions"]:
        return [f"first/last mention of {name} differ"]
    if [_chapter(parts, found[0]), _chapter(parts, found[-1])] != g.facts["chapters"]:
        return ["chapters differ"]
    return _check_mentions(doc, g, name, [found[0], found[-1]])


def find_two_hop(doc: Document, limit: int) -> list[Grounded]:
    """Pairs of names introduced in different chapters: which came first, and where."""
    parts, names = _mentions(doc, limit)
    firsts = sorted((ms[0], w) for w, ms in names.items())
    out = []
    for i in range(len(firsts)):
        for j in range(i + 1, min(len(firsts), i + 4)):
            (p1, w1), (p2, w2) = firsts[i], firsts[j]
            c1, c2 = _chapter(parts, p1), _chapter(parts, p2)
            if c1 == c2:
                continue
            e1, e2 = _span_of_name(doc, parts, p1), _span_of_name(doc, parts, p2)
            # ask in an order that does not give the answer away
            a, b = (w2, w1) if (i + j) % 2 else (w1, w2)
            out.append(Grounded(
                "book_two_hop",
                f"Of \"{a}\" and \"{b}\", which is mentioned first in the text above? Name the "
                "chapter where each first appears and quote both first mentions.",
                f"\"{w1}\" comes first, in {c1}: \"{quote(doc.text, e1)}\"\n"
                f"\"{w2}\" first appears later, in {c2}: \"{quote(doc.text, e2)}\"",
                [e1, e2], None, {"names": [w1, w2], "chapters": [c1, c2], "mentions": [p1, p2],
                                 "limit": parts[-1].end}, f"{w1}+{w2}"))
    return out


def check_two_hop(doc: Document, g: Grounded) -> list[str]:
    parts = _usable(doc, g.facts["limit"])
    firsts = []
    for name in g.facts["names"]:
        found = _all_mentions(doc, name, parts)
        if not found:
            return [f"{name} is not in the text"]
        firsts.append(found[0])
    if firsts != g.facts["mentions"] or firsts[0] >= firsts[1]:
        return ["first mentions differ or are not in order"]
    chapters_found = [_chapter(parts, p) for p in firsts]
    if chapters_found != g.facts["chapters"] or chapters_found[0] == chapters_found[1]:
        return ["the two evidence spans must sit in two different chapters"]
    problems: list[str] = []
    for name, pos, span in zip(g.facts["names"], firsts, g.evidence, strict=True):
        if not (span[0] <= pos < span[1]):
            problems.append(f"evidence misses the first mention of {name}")
    return problems


def find_which_chapter(doc: Document, limit: int) -> list[Grounded]:
    """The chapter where a name is mentioned most, when one chapter clearly leads."""
    parts, names = _mentions(doc, limit)
    out = []
    for name, ms in names.items():
        counts = Counter(_chapter(parts, m) for m in ms)
        ranked = counts.most_common(2)
        if len(ranked) < 2 or ranked[0][1] < 3 or ranked[0][1] < 1.5 * ranked[1][1]:
            continue
        best = ranked[0][0]
        pos = next(m for m in ms if _chapter(parts, m) == best)
        span = _span_of_name(doc, parts, pos)
        out.append(Grounded(
            "book_which_chapter",
            f"In which chapter above is \"{name}\" mentioned most often? Name it, say how "
            "often, and quote its first mention there.",
            f"{best}, with {ranked[0][1]} mentions (the next chapter has {ranked[1][1]}); "
            f"the first there: \"{quote(doc.text, span)}\"",
            [span], None, {"name": name, "chapter": best, "count": ranked[0][1],
                           "mention": pos, "limit": parts[-1].end}, name))
    return out


def check_which_chapter(doc: Document, g: Grounded) -> list[str]:
    parts = _usable(doc, g.facts["limit"])
    name = g.facts["name"]
    counts = Counter(_chapter(parts, m) for m in _all_mentions(doc, name, parts))
    ranked = counts.most_common(2)
    if not ranked or (ranked[0][0], ranked[0][1]) != (g.facts["chapter"], g.facts["count"]) or (
            len(ranked) > 1 and ranked[1][1] == ranked[0][1]):
        return [f"most mentions of {name}: answer {g.facts['chapter']}, text {ranked[:2]}"]
    return _check_mentions(doc, g, name, [g.facts["mention"]])


BOOK_FAMILIES: tuple[Family, ...] = (
    Family("book_first_last", "chapters", find_first_last, check_first_last),
    Family("book_two_hop", "chapters", find_two_hop, check_two_hop),
    Family("book_which_chapter", "chapters", find_which_chapter, check_which_chapter),
)
