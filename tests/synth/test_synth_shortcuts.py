"""The synthesize stage's shortcuts give what the plain computation gives: cached name
statistics, word counts folded per spelling, the parse walk, the import lines read once,
and the length meter's kept token starts. Each is checked against the direct way on real
rows, so a faster path can never change a sample."""

from __future__ import annotations

import ast
import pickle
import re
import string
import sys
from collections import Counter

from grounded_fixture import shared_book, stdlib_repo
from synth_fixture import stdlib_documents, trained_tokenizer

from longweave.synth.families import books
from longweave.synth.families.base import Unit, covers, files
from longweave.synth.families.code import import_like_lines, import_line, module_stem
from longweave.synth.families.code_index import _walk
from longweave.synth.grouping import top_terms
from longweave.synth.textutil import (
    FOLDS_INTO_ASCII,
    MEMO_TEXTS,
    STOPWORDS,
    LengthMeter,
    term_counts,
)


def test_term_counts_equal_a_count_word_by_word() -> None:
    """Same counts and the same key order as lower-casing every match in turn."""
    texts = [d.text for d in stdlib_documents()] + [
        "Word word WORD w0rd_ x1y2z Éclair 123abc ΣΑΣ", "Kelvin \u212aelvin \u0130stanbul Istanbul"]
    for text in texts:
        direct = Counter(w for w in (m.group(0).lower()
                                     for m in re.finditer(r"[A-Za-z][A-Za-z0-9_]{2,}", text))
                         if w not in STOPWORDS and not w.isdigit())
        folded = term_counts(text)
        assert folded == direct and list(folded) == list(direct)


def test_only_the_listed_characters_lower_case_into_ascii_word_characters() -> None:
    word = set(string.ascii_letters + string.digits + "_")
    found = [chr(c) for c in range(0x80, sys.maxunicode + 1)
             if any(ch in word for ch in chr(c).lower())]
    assert tuple(found) == FOLDS_INTO_ASCII


def test_top_terms_equal_sorting_every_term() -> None:
    """Ties at the k-th count are broken by the term, as a sort of everything breaks them."""
    counts = term_counts(shared_book("pg1342.txt").text)
    ties = Counter({"b": 3, "a": 3, "d": 5, "c": 3, "e": 1})
    for case in (counts, ties, Counter()):
        for k in (1, 2, 3, 4, 48, 10_000):
            assert top_terms(case, k) == sorted(case.items(), key=lambda kv: (-kv[1], kv[0]))[:k]


def _names_directly(text: str, lo: int, hi: int) -> dict[str, list[int]]:
    """The capitalisation statistics of `name_mentions`, every test on every mention."""
    mentions: dict[str, list[int]] = {}
    middle: Counter[str] = Counter()
    capitalised = re.compile(r"(?<![\w'’-])([A-Z][a-z]{2,})(?![\w'’-])")  # look-behind first
    for match in capitalised.finditer(text, lo, hi):
        word = match.group(1)
        if word.lower() in books._NOT_NAMES:
            continue
        mentions.setdefault(word, []).append(match.start())
        before = text[max(lo, match.start() - 12):match.start()]
        if books._HONORIFIC.search(before) or not books._SENTENCE_START.search(before):
            middle[word] += 1
    lower = Counter(re.findall(r"(?<![\w'’-])[a-z]{3,}(?![\w'’-])", text[lo:hi]))
    names = {w: m for w, m in mentions.items()
             if len(m) >= books.MIN_MENTIONS and middle[w] >= 0.7 * len(m)
             and lower[w.lower()] <= 0.05 * len(m)}
    top = sorted(names, key=lambda w: (-len(names[w]), w))[:books.MAX_NAMES]
    return {w: names[w] for w in sorted(top)}


def test_name_mentions_and_their_cache_match_the_direct_statistics() -> None:
    row = shared_book("pg2641.txt")
    text = row.text
    inside_words = [m.start() + 1 for m in re.finditer(r"[a-z][A-Z][a-z]", text)][:3]
    for lo, hi in ((0, len(text)), (len(text) // 3, len(text) // 2), (1, len(text) - 1),
                   *((at, len(text)) for at in inside_words)):
        assert books.name_mentions(text, lo, hi) == _names_directly(text, lo, hi)
    hits = books._chapter_mentions.cache_info().hits
    first = {f.__name__: f(row, len(text)) for f in
             (books.find_first_last, books.find_two_hop, books.find_which_chapter)}
    parts, cached = books._mentions(row, len(text))
    assert books._chapter_mentions.cache_info().hits >= hits + 3  # four asks, one search
    assert all(isinstance(ms, tuple) for ms in cached.values())  # shared: read-only
    direct = _names_directly(text, parts[0].start, parts[-1].end)
    assert cached == {w: tuple(m for m in ms if books.unit_at(parts, m))
                      for w, ms in direct.items()}
    again = {f.__name__: f(row, len(text)) for f in
             (books.find_first_last, books.find_two_hop, books.find_which_chapter)}
    assert repr(again) == repr(first) and any(first.values())


def test_covers_agrees_with_unit_at_on_overlapping_units() -> None:
    units = [Unit("b", 10, 10, 20), Unit("a", 0, 0, 5), Unit("c", 12, 12, 30), Unit("d", 40, 40, 41)]
    holds = covers(units)
    assert [holds(o) for o in range(-1, 45)] == [
        books.unit_at(units, o) is not None for o in range(-1, 45)]


def test_parse_walk_visits_nodes_in_ast_walk_order() -> None:
    for doc in stdlib_documents():
        tree = ast.parse(doc.text)
        assert [id(n) for n in _walk(tree)] == [id(n) for n in ast.walk(tree)]


def test_import_lines_read_once_find_what_a_fresh_scan_finds() -> None:
    row = stdlib_repo("email")
    units = files(row)
    stems = sorted({module_stem(u.name) for u in units})
    for unit in units[:12]:
        lines = import_like_lines(row.text, unit)
        for stem in stems:
            assert import_line(row.text, unit, stem, lines) == import_line(row.text, unit, stem)


def test_length_meter_keeps_token_starts_that_equal_fresh_encodes() -> None:
    meter = LengthMeter(trained_tokenizer(), 4.0)
    texts = [d.text for d in stdlib_documents()]
    fresh = meter._tok()
    for text in texts + texts[:3]:  # the second round is answered from the kept starts
        offsets = fresh.encode(text, add_special_tokens=False).offsets
        assert meter.count(text) == len(offsets)
        assert list(meter.position_index(text).starts) == [a for a, _ in offsets]
    assert len(meter._starts) <= MEMO_TEXTS
    kept = pickle.loads(pickle.dumps(meter))  # a worker gets the path, not the memo
    assert kept._starts == {} and kept.count(texts[0]) == meter.count(texts[0])
