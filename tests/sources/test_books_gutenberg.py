"""Project Gutenberg stripping and metadata, on the real books and on marker-variant fixtures."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest

from longweave.schemas.ledger import Rejected
from longweave.schemas.recipe_sources import BookOptions
from longweave.sources.books import BookReader
from longweave.sources.books.gutenberg import drop_production_notes, parse_header, strip_gutenberg

BOOKS = Path(__file__).resolve().parents[3] / "shared" / "data" / "books"
C1 = re.compile("[\u0080-\u009f]")


def _need_books() -> None:
    if not (BOOKS / "pg1342.txt").is_file():
        pytest.skip(f"shared data not found at {BOOKS}: the real-book tests need it")


@functools.cache
def _read(name: str):
    """Each real book is read once per test session (about half a second a book)."""
    docs = list(BookReader.read("books", str(BOOKS / name), BookOptions()))
    assert len(docs) == 1 and not isinstance(docs[0], Rejected), docs
    return docs[0]


def _first_and_last_body_lines(name: str) -> tuple[str, str]:
    """Computed independently of the reader: the lines around the START/END markers."""
    lines = (BOOKS / name).read_bytes().decode("cp1252").splitlines()
    start = next(i for i, line in enumerate(lines) if "*** START OF" in line)
    end = next(i for i, line in enumerate(lines) if "*** END OF" in line)
    body = [line.strip() for line in lines[start + 1:end] if line.strip()]
    return body[0], body[-1]


@pytest.mark.parametrize("name, title, author, number", [
    ("pg1342.txt", "Pride and Prejudice", "Jane Austen", 1342),
    ("pg2641.txt", "A Room with a View", "E. M. Forster", 2641),
    ("pg37106.txt", "Little Women; Or, Meg, Jo, Beth, and Amy", "Louisa May Alcott", 37106),
])
def test_real_books_are_stripped_with_their_metadata(name: str, title: str, author: str,
                                                     number: int) -> None:
    _need_books()
    doc = _read(name)
    first, last = _first_and_last_body_lines(name)
    assert doc.kind == "book"
    assert doc.text.startswith(first)
    assert "*** END OF" not in doc.text and "*** START OF" not in doc.text
    assert "Project Gutenberg License" not in doc.text
    if name != "pg37106.txt":  # Little Women ends in transcriber's notes, checked below
        assert doc.text.endswith(last)
    assert doc.meta["title"] == title
    assert doc.meta["author"] == author
    assert doc.meta["ebook_number"] == number
    assert doc.meta["language"] == "English"
    assert doc.meta["encoding"]["name"] == "cp1252"
    assert doc.meta["encoding"]["line_endings"] == "crlf"
    assert "\r" not in doc.text and not C1.search(doc.text)
    assert re.search("[’“”—œ]", doc.text)  # 0x91-0x9C read as characters, not controls
    quality = doc.meta["quality"]
    assert all(isinstance(v, float) for v in quality.values())
    assert 0.9 < quality["alpha_fraction"] <= 1.0


def test_indented_end_marker_of_pride_and_prejudice() -> None:
    _need_books()
    raw = (BOOKS / "pg1342.txt").read_bytes().decode("cp1252")
    assert re.search(r"\n[ \t]+\*\*\* END OF THE PROJECT", raw), "fixture changed"
    doc = _read("pg1342.txt")
    assert doc.text.endswith("TOOKS COURT, CHANCERY LANE, LONDON.")
    assert doc.meta["gutenberg"]["end_marker"].startswith("*** END OF THE PROJECT")


def test_pride_and_prejudice_has_61_chapters_as_contiguous_spans() -> None:
    _need_books()
    doc = _read("pg1342.txt")
    chapters = [s for s in doc.spans_with_prefix("chapter:")
                if s.label.lower().startswith("chapter:chapter ")]
    assert len(chapters) == 61
    assert chapters[0].label == "chapter:Chapter I."
    assert chapters[-1].label == "chapter:CHAPTER LXI."
    assert doc.text[chapters[0].start:].startswith("Chapter I.]")
    spans = doc.spans
    assert spans[0].start == 0 and spans[-1].end == len(doc.text)
    assert all(a.end == b.start for a, b in zip(spans, spans[1:], strict=False))


def test_room_with_a_view_chapters_skip_the_contents_list() -> None:
    _need_books()
    doc = _read("pg2641.txt")
    labels = [s.label for s in doc.spans]
    assert labels[1] == "chapter:PART ONE / Chapter I. The Bertolini"
    assert sum("Chapter " in label for label in labels) == 20
    contents = doc.text.index("CONTENTS")
    assert doc.spans[1].start > contents


def test_little_women_transcribers_notes_are_not_book_text() -> None:
    _need_books()
    doc = _read("pg37106.txt")
    assert "Transcriber's Notes" not in doc.text
    assert doc.meta["notes_dropped_chars"] > 1000
    assert doc.text.endswith("254 Washington St., Boston, Mass.")
    labels = [s.label for s in doc.spans]
    assert "chapter:I. PLAYING PILGRIMS" in labels
    assert "chapter:XLVII. HARVEST TIME" in labels


def test_an_ellipsis_byte_in_a_real_book_read_as_latin1_leaves_no_nel(tmp_path: Path) -> None:
    _need_books()
    raw = (BOOKS / "pg1342.txt").read_bytes()
    raw = raw.replace(b"It is a truth universally acknowledged,",
                      b"It is a truth\x85 universally acknowledged,", 1)
    path = tmp_path / "pg1342-ellipsis.txt"
    path.write_bytes(raw)
    for encoding in (None, "latin-1"):
        doc = next(iter(BookReader.read("books", str(path), BookOptions(encoding=encoding))))
        assert "It is a truth… universally" in doc.text
        assert "\u0085" not in doc.text


OLD_SMALL_PRINT = """\
**The Project Gutenberg Etext of The Tiny Tale, by Ann Writer**
**This file should be named tiny10.txt**

The Tiny Tale  [Etext #99999]

***START**THE SMALL PRINT!**FOR PUBLIC DOMAIN ETEXTS**START***
Why is this "Small Print!" statement here? You know: lawyers.
*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.04.29.93*END*



Produced by A. Volunteer
and another one.

THE TINY TALE

CHAPTER I

It was a small tale, and it began here. It went on for a while, long enough
to be a chapter of its own, with a second line and then a third line of text
so that it is not mistaken for a list of contents.

CHAPTER II

It ended soon after.

End of The Project Gutenberg Etext of The Tiny Tale
"""

THIS_EBOOK = """\
The Project Gutenberg EBook of Second Story, by Bo Author

Title: Second Story
       Being a Sequel

Author: Bo Author

Release Date: March 3, 2004 [EBook #11483]

Language: French

***START OF THIS PROJECT GUTENBERG EBOOK SECOND STORY***

[Transcriber's Note: obvious typos were
corrected silently.]

The first line of the second story.

End of the Project Gutenberg EBook of Second Story, by Bo Author

***END OF THIS PROJECT GUTENBERG EBOOK SECOND STORY***

Section 1. General Terms of Use
"""

INDENTED_NO_END = """\
Title: Open Ended

          *** START OF THE PROJECT GUTENBERG EBOOK OPEN ENDED ***

Only the book, then the file stops.
"""


def test_old_small_print_marker_and_produced_by() -> None:
    book = strip_gutenberg(OLD_SMALL_PRINT)
    assert book.start_marker.startswith("*END*THE SMALL PRINT")
    assert book.end_marker.startswith("End of The Project Gutenberg Etext")
    body, dropped = drop_production_notes(book.body)
    assert body.strip().startswith("THE TINY TALE")
    assert body.strip().endswith("It ended soon after.")
    assert "Volunteer" not in body and dropped > 0
    assert book.meta["title"] == "The Tiny Tale"
    assert book.meta["author"] == "Ann Writer"
    assert book.meta["ebook_number"] == 99999


def test_this_project_markers_and_end_of_line_variant() -> None:
    book = strip_gutenberg(THIS_EBOOK)
    assert book.start_marker == "***START OF THIS PROJECT GUTENBERG EBOOK SECOND STORY***"
    assert book.end_marker.startswith("End of the Project Gutenberg EBook")
    body, _ = drop_production_notes(book.body)
    assert body.strip() == "The first line of the second story."
    assert book.meta == {"title": "Second Story Being a Sequel", "author": "Bo Author",
                         "release_date": "March 3, 2004", "language": "French",
                         "ebook_number": 11483}


def test_indented_start_and_missing_end_marker() -> None:
    book = strip_gutenberg(INDENTED_NO_END)
    assert book.start_marker is not None and book.end_marker is None
    assert book.body.strip() == "Only the book, then the file stops."
    assert book.meta["title"] == "Open Ended"


def test_fixture_files_through_the_reader(tmp_path: Path) -> None:
    for name, text in (("old.txt", OLD_SMALL_PRINT), ("this.txt", THIS_EBOOK)):
        (tmp_path / name).write_bytes(text.replace("\n", "\r\n").encode("cp1252"))
    options = BookOptions()
    docs = {Path(loc).name: next(iter(BookReader.read("books", loc, options)))
            for loc in BookReader.locate([str(tmp_path)], options)}
    old = docs["old.txt"]
    assert old.text.startswith("THE TINY TALE")
    assert [s.label for s in old.spans] == ["chapter:(front matter)", "chapter:CHAPTER I",
                                            "chapter:CHAPTER II"]
    assert docs["this.txt"].text == "The first line of the second story."


def test_header_without_fields_uses_first_line() -> None:
    meta = parse_header("The Project Gutenberg eBook of Odd Book, by Some One\n\nno fields\n")
    assert meta == {"title": "Odd Book", "author": "Some One"}


def test_front_transcriber_note_heading_runs_to_the_wide_gap() -> None:
    body = ("Transcriber's Notes:\n\nItalics are shown as _this_.\n\nTypos fixed.\n\n\n\n"
            "CHAPTER I\n\nThe story. " + "More story. " * 100)
    cleaned, dropped = drop_production_notes(body)
    assert cleaned.startswith("CHAPTER I")
    assert dropped == body.index("CHAPTER I")


@pytest.mark.parametrize("opening", [
    "Original Transcriber's Notes:", "● Transcriber’s Notes:", "| Transcriber's Note",
    "TRANSCRIBERS' NOTES", "Additional Transcriber's Note:"])
def test_qualified_and_boxed_transcriber_notes_are_dropped(opening: str) -> None:
    """The note's first word need not be "Transcriber": "Original ...", bullets, boxes."""
    body = (f"{opening}\n\nSpelling is as in the original.\n\nHyphenation was made "
            "consistent.\n\n\n\nCHAPTER I\n\nThe story. " + "More story. " * 100)
    cleaned, dropped = drop_production_notes(body)
    assert cleaned.startswith("CHAPTER I"), cleaned[:80]
    assert dropped == body.index("CHAPTER I")


def test_prose_that_mentions_a_transcriber_is_kept() -> None:
    body = ("CHAPTER I\n\nThe original transcriber's notes were lost in the fire.\n\n"
            + "More story. " * 100)
    assert drop_production_notes(body) == (body, 0)


WORLD_LIBRARY = """This Etext file is presented by Project Gutenberg, in
cooperation with World Library, Inc.

***** SMALL PRINT! for COMPLETE SHAKESPEARE *****

The license terms go here and must not be book text.

****   SMALL PRINT! FOR __ COMPLETE SHAKESPEARE ****
["Small Print" V.12.08.93]

<<THIS ELECTRONIC VERSION OF THE COMPLETE WORKS OF WILLIAM
SHAKESPEARE IS COPYRIGHT 1990-1993 BY WORLD LIBRARY, INC.>>

ACT I. SCENE I.

Enter the King.

<<THIS ELECTRONIC VERSION OF THE COMPLETE WORKS OF WILLIAM
SHAKESPEARE IS COPYRIGHT 1990-1993 BY WORLD LIBRARY, INC.>>

ACT II. SCENE I.

Exit the King.

THE END

End of this Etext of The Complete Works of William Shakespeare, THE TINY PLAY
"""

SPACED_SMALL_PRINT = """The Project Gutenberg Etext of Small Things

*END THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.05/20/01*END*
[Portions of this header are copyright (C) 2001 by Michael S. Hart
and may be reprinted only when these Etexts are free of all fees.]
[Project Gutenberg is a TradeMark and may not be used in any sales
of Project Gutenberg Etexts without express permission.]




SMALL THINGS

The book begins.
"""


def test_world_library_shakespeare_header_footer_and_inline_notices() -> None:
    book = strip_gutenberg(WORLD_LIBRARY)
    assert book.start_marker.startswith("****   SMALL PRINT! FOR __ COMPLETE")
    assert book.end_marker.startswith("End of this Etext of")
    body, dropped = drop_production_notes(book.body)
    assert "WORLD LIBRARY" not in body and "license terms" not in body
    assert body.strip().startswith("ACT I. SCENE I.")  # the version line is license too
    assert "ACT I. SCENE I.\n\nEnter the King." in body and body.strip().endswith("THE END")
    assert dropped == len(book.body) - len(body)


def test_small_print_end_without_star_and_bracketed_header_notices() -> None:
    book = strip_gutenberg(SPACED_SMALL_PRINT)
    assert book.start_marker is not None and "SMALL PRINT" in book.start_marker
    body, _ = drop_production_notes(book.body)
    assert body.strip() == "SMALL THINGS\n\nThe book begins."


def _markers_line_by_line(text: str) -> tuple[list, list]:
    """The marker search as defined: every line stripped and, when it opens with a marker's
    first character, tried against the patterns."""
    from longweave.sources.books.gutenberg import _END_MARKERS, _START_MARKERS

    starts, ends, offset = [], [], 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped[:1] not in ("*", "S", "s", "E", "e", "T", "t"):
            pass
        elif any(p.match(stripped) for p in _START_MARKERS):
            starts.append((offset, offset + len(line), stripped))
        elif any(p.match(stripped) for p in _END_MARKERS):
            ends.append((offset, offset + len(line), stripped))
        offset += len(line) + 1
    return starts, ends


@pytest.mark.parametrize("text", [
    "", "*", "*** START OF THE PROJECT GUTENBERG EBOOK X ***",
    "\n\n  \t*** START OF THE PROJECT GUTENBERG EBOOK X ***  \nbody\n"
    "\u00a0End of the Project Gutenberg EBook of X\n",
    "ſtart of this project gutenberg ebook X\n*END*THE SMALL PRINT! FOR PUBLIC DOMAIN\n"
    "text\n   THE FULL PROJECT GUTENBERG LICENSE\n*** START: FULL LICENSE ***",
])
def test_marker_lines_are_found_as_a_line_by_line_search_finds_them(text: str) -> None:
    from longweave.sources.books.gutenberg import _find_markers

    assert _find_markers(text) == _markers_line_by_line(text)


def test_marker_lines_of_the_real_books_match_a_line_by_line_search() -> None:
    from longweave.sources.books.decode import decode_bytes
    from longweave.sources.books.gutenberg import _find_markers

    _need_books()
    for path in sorted(BOOKS.glob("*.txt")):
        text = decode_bytes(path.read_bytes()).text
        assert _find_markers(text) == _markers_line_by_line(text), path.name
