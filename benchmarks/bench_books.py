"""Books check: every real Gutenberg book read by `BookReader`, judged by independent rules.

For each `.txt` under ../shared/data/books*/ (the three test books and the 569 of
books-scale), the reader's document is compared with what a second, simpler reading of
the same file says (substring rules written here, not the reader's regexes):
  - header / footer: the body is what lies strictly between the START line (a line with
    "START OF" and "GUTENBERG", or "*END*THE SMALL PRINT") and the first END line after it
    (a line with "END OF" and "GUTENBERG"). Every paragraph of the document must be a
    paragraph of that body, in order (none from the header or license), and the body
    paragraphs the document lacks must add up to no more than the production and
    transcriber notes the reader says it removed (`notes_dropped_chars`);
  - leftover license: document lines naming Project Gutenberg, its license or its site;
  - chapters: lines of the body that open with CHAPTER/Chapter + a number, outside a
    contents list (such lines with under 300 non-space characters between them), must
    each start a `chapter:` span (or be named in its label): the chapter recall;
  - front matter: the "(front matter)" span's share of the text.
Prints the counts the issue asks for (books with zero chapters, front matter > 5% of the
text, leftover license lines) and the failures of each rule, with examples.

Run: python benchmarks/bench_books.py [--limit N] [--show K]
"""

from __future__ import annotations

import argparse
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from longweave.schemas.document import Document
from longweave.schemas.ledger import Rejected
from longweave.schemas.recipe_sources import BookOptions
from longweave.schemas.spans import label_value
from longweave.sources.books import BookReader
from longweave.sources.books.chapters import FRONT_MATTER
from longweave.sources.books.decode import decode_bytes

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
LICENSE_LINE = re.compile(r"project\s+gutenberg|gutenberg[-\s]?tm|gutenberg\.org|"
                          r"gutenberg literary archive", re.I)
CHAPTER_LINE = re.compile(r"^\s*(?:CHAPTER|Chapter)\s+(?:[IVXLC]+|\d+)\b")
FRONT_SHARE = 0.05
CONTENTS_GAP = 300  # chapters are longer than this; contents entries are not


@dataclass
class Verdict:
    name: str
    chars: int = 0
    markers: bool = False
    leaked_paragraphs: int = 0
    lost_chars: int = 0
    license_lines: list[str] = field(default_factory=list)
    chapters: int = 0
    expected_headings: int = 0
    found_headings: int = 0
    front_share: float = 0.0
    rejected: str = ""


def independent_body(text: str) -> tuple[str, bool]:
    """The text strictly between the START and END lines, by substring rules."""
    lines = text.split("\n")
    start = end = None
    for index, line in enumerate(lines):
        upper = line.upper()
        squeezed = upper.replace(" ", "").replace("*", "").replace("_", "")
        if start is None and (("START OF" in upper and "GUTENBERG" in upper)
                              or (line.startswith("*")
                                  and squeezed.startswith("ENDTHESMALLPRINT"))):
            start = index
        elif line.startswith("*") and squeezed == "SMALLPRINT!FORCOMPLETESHAKESPEARE":
            start = index  # World Library files: the last of these two lines ends the header
        elif start is not None and (("END OF" in upper and "GUTENBERG" in upper)
                                    or upper.startswith("END OF THIS ETEXT OF")):
            end = index
            break
    if start is None:
        return text, False
    # A second START line before the END (a re-stated header) moves the start down.
    for index in range(start + 1, end if end is not None else len(lines)):
        upper = lines[index].upper()
        if "START OF" in upper and "GUTENBERG" in upper and "EBOOK" in upper.replace("-", ""):
            start = index
    return "\n".join(lines[start + 1:end]), True


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def compare(body: str, doc_text: str) -> tuple[int, int]:
    """(document paragraphs not found in order in the body, body chars the doc lacks)."""
    expected = paragraphs(body)
    position = 0
    leaked = 0
    matched = [False] * len(expected)
    for para in paragraphs(doc_text):
        index = position
        while index < len(expected) and expected[index] != para:
            index += 1
        if index == len(expected):
            leaked += 1
            continue
        matched[index] = True
        position = index + 1
    lost = sum(len(p) for p, hit in zip(expected, matched, strict=True) if not hit)
    return leaked, lost


def expected_headings(body: str) -> list[str]:
    """CHAPTER-number lines of the body, less a contents list's: a line with less than
    `CONTENTS_GAP` non-space characters between it and its neighbour is an entry."""
    lines = body.split("\n")
    hits = [i for i, line in enumerate(lines) if CHAPTER_LINE.match(line)]

    def gap(a: int, b: int) -> int:
        return sum(len("".join(line.split())) for line in lines[a + 1:b])

    kept = []
    for pos, index in enumerate(hits):
        before = pos > 0 and gap(hits[pos - 1], index) < CONTENTS_GAP
        after = pos + 1 < len(hits) and gap(index, hits[pos + 1]) < CONTENTS_GAP
        if not (before or after):
            kept.append(lines[index].strip())
    return kept


def check(path: Path, options: BookOptions) -> Verdict:
    verdict = Verdict(path.name)
    items = list(BookReader.read("books", str(path), options))
    docs = [i for i in items if isinstance(i, Document)]
    if not docs:
        verdict.rejected = next((i.error for i in items if isinstance(i, Rejected)), "nothing")
        return verdict
    doc = docs[0]
    text = doc.text
    verdict.chars = len(text)
    raw_text = decode_bytes(path.read_bytes()).text
    body, verdict.markers = independent_body(raw_text)
    leaked, lost = compare(body, text)
    verdict.leaked_paragraphs = leaked
    verdict.lost_chars = max(0, lost - int(doc.meta.get("notes_dropped_chars", 0)))
    verdict.license_lines = [line.strip() for line in text.split("\n")
                             if LICENSE_LINE.search(line)]
    verdict.chapters = int(doc.meta.get("chapters", 0))
    starts = {text[s.start:s.end].lstrip()[:60] for s in doc.spans}
    labels = [label_value(s.label, "chapter:") for s in doc.spans]
    wanted = expected_headings(body)
    verdict.expected_headings = len(wanted)
    verdict.found_headings = sum(1 for h in wanted if any(s.startswith(h[:40]) for s in starts)
                                 or any(h.rstrip(".") in lab for lab in labels))
    front = [s for s, lab in zip(doc.spans, labels, strict=True) if lab == FRONT_MATTER]
    verdict.front_share = (front[0].end - front[0].start) / len(text) if front and text else 0.0
    return verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--limit", type=int, default=None, help="check only the first N books")
    parser.add_argument("--show", type=int, default=5, help="examples printed per failure")
    args = parser.parse_args()
    books = sorted(p for folder in sorted(DATA.glob("books*")) for p in folder.glob("*.txt"))
    if not books:
        raise SystemExit(f"no books under {DATA}/books*/")
    books = books[: args.limit]
    options = BookOptions()
    started = time.process_time()
    verdicts = [check(path, options) for path in books]
    cpu = time.process_time() - started
    read = [v for v in verdicts if not v.rejected]
    expected = sum(v.expected_headings for v in read)
    found = sum(v.found_headings for v in read)
    groups = {
        "rejected by the reader": [v for v in verdicts if v.rejected],
        "no START/END markers (independent rule)": [v for v in read if not v.markers],
        "zero chapters": [v for v in read if v.chapters == 0],
        f"front matter > {FRONT_SHARE:.0%} of the text": [v for v in read
                                                          if v.front_share > FRONT_SHARE],
        "leftover license lines": [v for v in read if v.license_lines],
        "paragraphs from outside the markers": [v for v in read if v.leaked_paragraphs],
        "body text lost beyond the notes removed (>200 chars)": [
            v for v in read if v.lost_chars > 200],
        "CHAPTER-number headings missed": [v for v in read
                                           if v.found_headings < v.expected_headings],
    }
    print(f"books checked: {len(verdicts)} ({sum(v.chars for v in read) / 1e6:.1f} M chars "
          f"kept) in {cpu:.1f} CPU s")
    print(f"chapter recall on independent CHAPTER-number lines: {found}/{expected} = "
          f"{found / expected if expected else 1.0:.3f}")
    for title, members in groups.items():
        print(f"{title}: {len(members)}")
        for v in members[: args.show]:
            detail = {
                "rejected by the reader": v.rejected[:100],
                "zero chapters": f"{v.chars} chars",
                "leftover license lines": " | ".join(v.license_lines[:2])[:120],
                "paragraphs from outside the markers": f"{v.leaked_paragraphs} paragraphs",
                "CHAPTER-number headings missed": f"{v.found_headings}/{v.expected_headings}",
            }.get(title, f"front {v.front_share:.1%}, lost {v.lost_chars} chars")
            print(f"    {v.name}: {detail}")


if __name__ == "__main__":
    main()
