"""Chapters that carry only a title ("The Great Elixir", no "CHAPTER"), found through the
book's own contents list.

A title alone looks like any short line, so it is trusted only when the book lists it: the
entries of a CONTENTS / LIST OF CHAPTERS block (page numbers, dot leaders and chapter
numerals removed) are looked up, in order, among the one-line paragraphs after the list.
Fewer than half the entries found means the list was not read right, and none are used.
"""

from __future__ import annotations

import re

_CONTENTS_HEAD = re.compile(r"^(?:TABLE\s+OF\s+)?CONTENTS\.?$|^LIST\s+OF\s+CHAPTERS\.?$", re.I)
_PAGE = re.compile(r"(?:\s*\.{2,}\s*|\s+)(?:\d{1,4}|[ivxlc]{1,7})\s*$", re.I)
_LEAD = re.compile(r"^(?:(?:CHAPTER|CHAP\.?)\s+)?(?:[IVXLC]+|\d{1,3})[.:]?(?:\s+|$)", re.I)
MAX_TITLE_CHARS = 90
MIN_FOUND_SHARE = 0.5


def title_key(line: str) -> str:
    """'  IV. The Silver Pig ...... 159' -> 'THE SILVER PIG': a contents entry and its heading
    compare equal."""
    line = line.replace("_", " ").strip()
    line = _PAGE.sub("", line)
    line = _LEAD.sub("", line)
    return re.sub(r"\W+", " ", line).strip().upper()


def contents_entries(text: str, paragraphs: list[tuple[int, int]]) -> tuple[int, list[str]]:
    """(index of the first paragraph after the list, entry keys) of the first contents list.

    The list runs over the short-line paragraphs after its heading and ends at a wide gap
    (three blank lines), a paragraph of prose, a long line, or an entry that repeats an
    earlier one (the first chapter's own heading right after its list).
    """
    for index, (start, end) in enumerate(paragraphs):
        lines = text[start:end].split("\n")
        if not _CONTENTS_HEAD.match(lines[0].strip(" _*[]")):
            continue
        keys: list[str] = []
        position = index
        block = lines[1:]
        while True:
            new = [title_key(line) for line in block]
            if any(key in keys for key in new):
                break  # the list is over: this paragraph is the first chapter's heading
            keys.extend(k for k in new if sum(c.isalpha() for c in k) >= 3
                        and not k.startswith("ILLUSTRATION"))
            position += 1
            if position >= len(paragraphs):
                break
            gap = text.count("\n", paragraphs[position - 1][1], paragraphs[position][0])
            block = text[paragraphs[position][0]:paragraphs[position][1]].split("\n")
            if ((len(keys) >= 2 and gap >= 4) or _is_prose_line(block)
                    or any(len(line.strip()) > MAX_TITLE_CHARS for line in block)):
                break
        if len(keys) >= 2:
            return position, keys
    return len(paragraphs), []


def _is_prose_line(block: list[str]) -> bool:
    """A line of running text: many words, mostly lower case (not a title)."""
    for line in block:
        words = line.split()
        if len(words) >= 8 and sum(w[:1].islower() for w in words) > len(words) / 2:
            return True
    return False


def contents_titles(text: str, paragraphs: list[tuple[int, int]]
                    ) -> list[tuple[int, int, str]]:
    """(start, end, title) of the one-line paragraphs after the contents list that name
    its entries, in the list's order."""
    after, keys = contents_entries(text, paragraphs)
    if not keys:
        return []
    found: list[tuple[int, int, str]] = []
    pointer = 0
    for start, end in paragraphs[after:]:
        line = text[start:end].strip()
        if "\n" in line or len(line) > MAX_TITLE_CHARS:
            continue
        key = title_key(line)
        if key in keys[pointer:]:
            pointer = keys.index(key, pointer) + 1
            found.append((start, end, line))
            if pointer == len(keys):
                break
    return found if len(found) >= max(2, MIN_FOUND_SHARE * len(keys)) else []
