"""Question families grounded in a row's structure: code graph, chapters, refer-back links.

`FAMILIES` maps a family name to its finder and checker; `NEXT_WORD` is the extractive
passage family the generators answer (kept as one family among several).
"""

from __future__ import annotations

from longweave.schemas.document import Document
from longweave.synth.families.base import Family, Grounded, traits
from longweave.synth.families.books import BOOK_FAMILIES
from longweave.synth.families.code import CODE_FAMILIES
from longweave.synth.families.trajectories import TRAJECTORY_FAMILIES

NEXT_WORD = "next_word"
FAMILIES: dict[str, Family] = {f.name: f for f in
                               (*CODE_FAMILIES, *BOOK_FAMILIES, *TRAJECTORY_FAMILIES)}


ASKED = "asked"  # a sketch whose row was searched for questions (see `askable`)


def askable(doc: Document, families: tuple[str, ...]) -> tuple[str, ...]:
    """Traits `ask:<family>` for the families that find a question in the whole row.

    Computed once per row when its sketch is made (in parallel, on workers), so the plan
    gives a family only rows it can ask about instead of planning jobs that must fail.
    """
    have = set(traits(doc))
    found = [f"ask:{name}" for name in families
             if name in FAMILIES and FAMILIES[name].needs in have
             and FAMILIES[name].find(doc, len(doc.text))]
    return (ASKED, *found) if families else ()


def row_trait(family: str, asked: bool) -> str | None:
    """The trait the plan selects rows by: found questions when rows were searched."""
    if family == NEXT_WORD:
        return None
    return f"ask:{family}" if asked else FAMILIES[family].needs


def needs(family: str) -> str | None:
    """The row trait a family needs (None: any row, the passage family)."""
    return None if family == NEXT_WORD else FAMILIES[family].needs


__all__ = ["ASKED", "FAMILIES", "NEXT_WORD", "Family", "Grounded", "askable", "needs",
           "row_trait", "traits"]
