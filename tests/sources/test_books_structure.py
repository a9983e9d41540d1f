"""Chapter detection, paragraph reflow and quality signals (pure functions of sources/books)."""

from __future__ import annotations

from longweave.sources.books.chapters import (
    Heading,
    chapter_spans,
    find_headings,
    headings_from_marked,
    number_value,
)
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
