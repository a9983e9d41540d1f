"""Chapter detection, paragraph reflow and quality signals (pure functions of sources/books)."""

from __future__ import annotations

import re

from longweave.sources.books.chapters import (
    Heading,
    chapter_spans,
    find_headings,
    headings_from_marked,
    number_value,
)
from longweave.sources.books.contents import contents_entries, title_key
from longweave.sources.books.quality import quality_signals
from longweave.sources.books.reflow import reflow_paragraphs

PROSE = ("She walked along the river in the evening, thinking of nothing in particular, "
         "and the light went out of the sky by slow degrees. ") * 4


def _book(*headings: str) -> str:
    return "\n\n".join(f"{h}\n\n{PROSE}" for h in headings)


def test_number_values() -> None:
    assert number_value("XIV") == 14
    assert number_value("12") == 12
    assert number_value("the Twenty-first") == 21
    assert number_value("Seven") == 7
    assert number_value("MIXED") is None


def test_keyword_headings_of_several_styles() -> None:
    text = _book("CHAPTER I.", "Chapter 2", "Chapter Three: The Storm", "STAVE IV", "EPILOGUE")
    labels = [h.label for h in find_headings(text)]
    assert labels == ["CHAPTER I.", "Chapter 2", "Chapter Three: The Storm", "STAVE IV",
                      "EPILOGUE"]


def test_prose_that_starts_with_chapter_is_not_a_heading() -> None:
    text = _book("Chapter I") + "\n\nChapter two was found, and she read it.\n\n" + PROSE
    assert [h.label for h in find_headings(text)] == ["Chapter I"]


def test_bare_numerals_must_run_in_sequence_and_take_their_title() -> None:
    text = _book("I.\n\nTHE START", "II.\n\nTHE MIDDLE", "VII.", "III.\n\nTHE END")
    labels = [h.label for h in find_headings(text)]
    assert labels == ["I. THE START", "II. THE MIDDLE", "III. THE END"]


def test_table_of_contents_is_not_chapters() -> None:
    contents = "CONTENTS\n\n" + "\n\n".join(
        f"CHAPTER {n}. Title {n}" for n in ("I", "II", "III", "IV"))
    text = contents + "\n\n\n" + _book("CHAPTER I. Title I", "CHAPTER II. Title II",
                                       "CHAPTER III. Title III", "CHAPTER IV. Title IV")
    headings = find_headings(text)
    assert len(headings) == 4
    assert headings[0].start > text.index("CHAPTER IV. Title IV")


def test_part_and_chapter_pair_is_one_boundary() -> None:
    text = _book("PART ONE\n\nChapter I\nThe Beginning", "Chapter II\nThe Rest")
    assert [h.label for h in find_headings(text)] == [
        "PART ONE / Chapter I. The Beginning", "Chapter II. The Rest"]


def test_spans_are_contiguous_and_cover_the_text() -> None:
    text = "A dedication to my aunt.\n\n" + _book("Chapter 1", "Chapter 2")
    spans = chapter_spans(text, find_headings(text))
    assert [s.label for s in spans] == ["chapter:(front matter)", "chapter:Chapter 1",
                                        "chapter:Chapter 2"]
    assert spans[0].start == 0 and spans[-1].end == len(text)
    assert all(a.end == b.start for a, b in zip(spans, spans[1:], strict=False))
    assert text[spans[1].start:].startswith("Chapter 1")
    assert chapter_spans(text, []) == []


def test_markup_headings_use_the_repeated_level() -> None:
    text = "Book Title\n\nChapter 1\n\n" + PROSE + "\n\nChapter 2\n\n" + PROSE
    first = text.index("Chapter 1")
    second = text.index("Chapter 2")
    marked = [(0, 10, 1, "Book Title"), (first, first + 9, 2, "Chapter 1"),
              (second, second + 9, 2, "Chapter 2")]
    headings = headings_from_marked(text, marked)
    # The lone h1 and the first h2 sit together: one boundary, numbered by the chapter.
    assert headings == [Heading(0, first + 9, "Book Title / Chapter 1", 1),
                        Heading(second, second + 9, "Chapter 2", 2)]


def test_reflow_joins_prose_but_keeps_verse() -> None:
    prose = ("The quick brown fox jumped over the lazy dog and\n"
             "then ran across the field towards the far woods\n"
             "where it hid.")
    verse = "Roses are red,\n    violets are blue,\nsugar is sweet."
    heading = "Chapter I\nA very long title that is much longer than the heading line"
    text = reflow_paragraphs(f"{prose}\n\n{verse}\n\n{heading}")
    joined, kept, head = text.split("\n\n")
    assert joined == prose.replace("\n", " ")
    assert kept == verse
    assert head == heading


def test_quality_signals_see_ocr_noise() -> None:
    clean = ("It was the best of times, it was the worst of times,\n"
             "it was the age of wisdom, it was the age of foolishness,\n"
             "it was the epoch of belief, it was the epoch of incredulity,\n"
             "it was the season of Light, it was the season of Darkness.")
    noisy_lines = []
    for page in range(1, 30):
        noisy_lines += ["THE HISTORY OF ROME", "the leg-", "ions marched on and on",
                        str(page), "- 12 -"]
    noisy = "\n".join(noisy_lines)
    good, bad = quality_signals(clean), quality_signals(noisy)
    assert set(good) == set(bad) and all(isinstance(v, float) for v in good.values())
    assert good["broken_hyphen_fraction"] == 0.0 and bad["broken_hyphen_fraction"] > 0.15
    assert good["page_number_line_fraction"] == 0.0
    assert 0.35 < bad["page_number_line_fraction"] < 0.45
    assert bad["repeated_line_fraction"] > 0.5 > good["repeated_line_fraction"]
    assert good["alpha_fraction"] > bad["alpha_fraction"]
    assert quality_signals("")["mean_line_length"] == 0.0


def test_all_caps_front_sections_are_their_own_spans() -> None:
    """Moby-Dick's shape: title page and contents, then ETYMOLOGY. and EXTRACTS. sections
    with bodies of their own, then the chapters; only the first stays front matter."""
    contents = ("MOBY-DICK;\n\nor, THE WHALE.\n\nBy Herman Melville\n\n\n\nCONTENTS\n\n"
                "ETYMOLOGY.\n\nEXTRACTS (Supplied by a Sub-Sub-Librarian).\n\n"
                "CHAPTER 1. Loomings.\n\nCHAPTER 2. The Carpet-Bag.\n\n"
                "CHAPTER 3. The Spouter-Inn.\n\n\n\n")
    text = (contents + "ETYMOLOGY.\n\n(Supplied by a Late Consumptive Usher to a Grammar "
            "School.)\n\n" + PROSE + "\n\nEXTRACTS. (Supplied by a Sub-Sub-Librarian).\n\n"
            + PROSE + "\n\n"
            + _book("CHAPTER 1. Loomings.", "CHAPTER 2. The Carpet-Bag.",
                    "CHAPTER 3. The Spouter-Inn."))
    spans = chapter_spans(text, find_headings(text))
    labels = [s.label.removeprefix("chapter:") for s in spans]
    assert labels == ["(front matter)", "ETYMOLOGY.",
                      "EXTRACTS. (Supplied by a Sub-Sub-Librarian).",
                      "CHAPTER 1. Loomings.", "CHAPTER 2. The Carpet-Bag.",
                      "CHAPTER 3. The Spouter-Inn."]
    assert text[spans[0].start:spans[0].end].rstrip().endswith("CHAPTER 3. The Spouter-Inn.")
    assert spans[1].start == text.index("ETYMOLOGY.\n\n(Supplied")


def test_all_caps_lines_inside_chapters_or_without_chapters_are_not_headings() -> None:
    shout = "STOP THIEF\n\n" + PROSE
    assert [h.label for h in find_headings(_book("CHAPTER I.") + "\n\n" + shout)] == [
        "CHAPTER I."]
    assert find_headings(shout) == []


def test_chapter_labels_drop_gutenberg_italic_underscores() -> None:
    text = _book("CHAPTER I.\n\n_The Storm_", "CHAPTER II. _Calm_ after", "CHAPTER III.")
    labels = [s.label.removeprefix("chapter:") for s in chapter_spans(text, find_headings(text))]
    assert labels == ["CHAPTER I. The Storm", "CHAPTER II. Calm after", "CHAPTER III."]
    assert chapter_spans("x", [Heading(0, 1, "Chapter 4 snake_case_name")])[0].label == (
        "chapter:Chapter 4 snake_case_name")


def test_title_only_chapters_named_by_the_contents_list() -> None:
    """Baum's shape: a LIST OF CHAPTERS with page numbers, then chapters headed by their
    title alone; a title line that the list does not name is not a heading."""
    contents = ("LIST OF CHAPTERS\n\n    THE GREAT ELIXIR            9\n"
                "    THE TWO FLASKS             11\n    THE GINGERBREAD MAN ...... 27\n\n\n")
    text = contents + "\n\n".join(f"{title}\n\n{PROSE}" for title in (
        "The Great Elixir", "The Two Flasks", "A Title Nobody Listed", "The Gingerbread Man"))
    labels = [h.label for h in find_headings(text)]
    assert labels == ["The Great Elixir", "The Two Flasks", "The Gingerbread Man"]
    assert find_headings(text)[0].start == text.index("The Great Elixir")


def test_contents_guided_titles_need_most_of_the_list() -> None:
    contents = "CONTENTS\n\n" + "\n".join(f"Title Number {n}" for n in range(1, 9)) + "\n\n\n"
    text = contents + f"Title Number 1\n\n{PROSE}"  # one of eight found: the list was misread
    assert find_headings(text) == []


def test_acts_and_scenes_of_a_play() -> None:
    labels = [h.label for h in find_headings(_book("ACT I", "ACT II", "Act III. Scene 2"))]
    assert labels == ["ACT I", "ACT II", "Act III. Scene 2"]


def test_dash_joined_titles_and_page_markers_above_headings() -> None:
    text = _book("CHAPTER I--_Introductory Remarks_", "CHAPTER II—THE CURATE.  THE OLD LADY",
                 "[Pg 27]\nCHAPTER III\n\nSTARTING GAILY")
    labels = [s.label.removeprefix("chapter:") for s in chapter_spans(text, find_headings(text))]
    assert labels == ["CHAPTER I--Introductory Remarks", "CHAPTER II—THE CURATE. THE OLD LADY",
                      "CHAPTER III. STARTING GAILY"]


def test_a_title_line_over_a_front_section_is_not_a_section() -> None:
    """"THE LITTLE OLD SHOE" (the end of a title) over "HOW IT WAS LOST" (a section with
    prose): only the second is a heading, so no span holds just a title line."""
    text = ("A MODERN CINDERELLA\n\nOR,\n\nTHE LITTLE OLD SHOE\n\n\nHOW IT WAS LOST\n\n"
            + PROSE + "\n\n" + _book("CHAPTER I.", "CHAPTER II."))
    assert [h.label for h in find_headings(text)] == ["HOW IT WAS LOST", "CHAPTER I.",
                                                       "CHAPTER II."]


def test_contents_list_ends_at_a_wide_gap_or_prose() -> None:
    text = ("CONTENTS\n\n  A MODERN CINDERELLA\n  DEBBY'S DEBUT\n  NELLY'S HOSPITAL\n\n\n\n\n"
            "SOMETHING ELSE\n\n" + PROSE)
    paragraphs = [(m.start(), m.end()) for m in
                  re.finditer(r"[^\n]*\S[^\n]*(?:\n[^\n]*\S[^\n]*)*", text)]
    after, keys = contents_entries(text, paragraphs)
    assert keys == ["A MODERN CINDERELLA", "DEBBY S DEBUT", "NELLY S HOSPITAL"]
    assert text[paragraphs[after][0]:].startswith("SOMETHING ELSE")
    assert title_key("  IV. The Silver Pig ...... 159") == "THE SILVER PIG"


def test_gap_below_agrees_with_counting_the_whole_range() -> None:
    """`_gap_below` reads growing prefixes of a range; the answer is the full count's."""
    from longweave.sources.books.chapters import _gap_below

    text = ("  \n\n CHAPTER I \n\n" + PROSE + "\n\n\t" + " " * 700 + "x" * 30 + "\n") * 3
    for start in range(0, len(text), 37):
        for end in (start - 1, start, start + 5, start + 300, start + 1500, len(text)):
            for limit in (0, 1, 41, 150, 600):
                count = len(re.sub(r"\s+", "", text[start:end])) if end > start else 0
                assert _gap_below(text, start, end, limit) == (count < limit)
