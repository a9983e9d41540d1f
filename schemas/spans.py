"""Span labels, declared once: what a `Span.label` may say and how each is built or read.

A label is `<prefix><value>` (e.g. `file:src/a.py`) or a bare flag (`loss:off`). Readers and
the synthesizer write them; the filter judges chunks by them, the packer splits and masks
by them, synthesis verifies its claims by them. Build labels with the helpers below and
test them with the prefixes, never with a string literal, so a renamed label cannot leave
one stage looking for a name no other stage writes.
"""

from __future__ import annotations

# --- labels the collect stage writes
FILE = "file:"  # one file of a repository: `file:<path>`; the packer may split before it
CHAPTER = "chapter:"  # one chapter of a book: `chapter:<title>`; a split point and a chunk
SECTION = "section:"  # a section of structured text: a split point (no reader emits it yet)
TURN = "turn:"  # one turn of a conversation: `turn:<role>`; a split point and a chunk
LOSS_OFF = "loss:off"  # text the model reads but is not trained to produce (loss mask 0)

# --- labels the synthesize stage writes
EVIDENCE = "evidence:"  # the passage a question's answer rests on: `evidence:<doc id>`
PART = "part:"  # one stitched document of a megadoc: `part:<n>:<doc id>`
XREF = "xref:"  # a cross-reference inserted in a megadoc, pointing back: `xref:<part n>`
NEEDLE = "needle:"  # an inserted needle statement of a synthetic task: `needle:<n>`
RATIONALE = "rationale"  # a model's rationale inserted into a stretched megadoc

# --- labels that never sit on a document, only name a filter chunk (in meta.filter.quality)
WINDOW = "window:"  # a fixed-size chunk of a document without chapter/file/turn spans


def file_label(path: str) -> str:
    return f"{FILE}{path}"


def chapter_label(title: str) -> str:
    return f"{CHAPTER}{title}"


def turn_label(role: str) -> str:
    return f"{TURN}{role}"


def evidence_label(doc_id: str) -> str:
    return f"{EVIDENCE}{doc_id}"


def part_label(number: int, doc_id: str) -> str:
    return f"{PART}{number}:{doc_id}"


def xref_label(part: int) -> str:
    return f"{XREF}{part}"


def needle_label(number: int) -> str:
    return f"{NEEDLE}{number}"


def window_label(number: int) -> str:
    return f"{WINDOW}{number}"


def label_value(label: str, prefix: str) -> str:
    """What follows `prefix` in `label` (`file:a.py` -> `a.py`); ValueError if it lacks it."""
    if not label.startswith(prefix):
        raise ValueError(f"span label {label!r} does not start with {prefix!r}")
    return label[len(prefix):]


def part_number(label: str) -> int:
    """The part number of a `part:<n>:<doc id>` label."""
    return int(label_value(label, PART).split(":", 1)[0])
