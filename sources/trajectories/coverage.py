"""Content coverage: every piece of content a session holds reaches the rendered text, or
its absence is counted under a named rule.

Why: an importer that misreads a format (the flat OpenHands schema, calls with unparsed
arguments) used to yield documents that *look* fine but lost the task or the commands.
The reader measures, per session, the pieces (task summary, messages, thoughts, call
arguments, results, the task and patch of the outcome) and looks each one up in the
text, newlines normalised as rendering does. A piece may be absent only by a rule:

- `noise:<kind>`, `demo_excluded`, `empty_step`: the step is not rendered (see `render`);
- `reasoning_excluded`, `summary_excluded`: the recipe turned them off;
- `observation_capped`: the result was cut to `max_observation_chars`; its head and
  tail must still be there, around the cap marker;
- `meta:<key>`: an outcome field (problem statement, final patch) kept in meta.

Anything else is `missing`; the reader quarantines such a session under the built-in
layout (a user chat template may legitimately drop fields, so there it is only counted).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from longweave.schemas.recipe_sources import TrajectoryOptions
from longweave.schemas.trajectory import Session, ToolCall
from longweave.sources.trajectories.common import normalise_newlines
from longweave.sources.trajectories.render import arguments_text, skip_reason

MAX_LISTED_MISSING = 5
OUTCOME_TEXT_KEYS = ("problem_statement", "final_patch")


@dataclass(frozen=True)
class Piece:
    """One content string of a session, where it came from, and the rule that may omit it."""

    where: str
    text: str
    rule: str | None = None
    capped: bool = False


def session_pieces(session: Session, options: TrajectoryOptions) -> list[Piece]:
    """Every non-empty content string of the session, in order."""
    pieces: list[Piece] = []

    def add(where: str, text: str | None, rule: str | None = None, capped: bool = False
            ) -> None:
        if text and text.strip():
            pieces.append(Piece(where, text, rule, capped))

    add("summary", session.summary, None if options.include_summary else "summary_excluded")
    limit = options.max_observation_chars
    for step in session.steps:
        where = f"step {step.step_id}"
        reason = skip_reason(step, options)
        add(f"{where} message", step.message, reason)
        add(f"{where} reasoning", step.reasoning,
            reason or (None if options.include_reasoning else "reasoning_excluded"))
        for call in step.tool_calls:
            add(f"{where} call {call.call_id}", _call_text(call), reason)
        for result in step.observations:
            add(f"{where} result", result.content, reason,
                capped=limit is not None and len(result.content) > limit)
    for key in OUTCOME_TEXT_KEYS:
        value = session.outcome.get(key)
        add(f"outcome {key}", value if isinstance(value, str) else None, f"meta:{key}")
    return pieces


def _call_text(call: ToolCall) -> str:
    """What of a call must show: the command of an implicit call, else the arguments."""
    if call.implicit and isinstance(call.arguments.get("command"), str):
        return call.arguments["command"]
    return arguments_text(call)


def coverage(session: Session, text: str, options: TrajectoryOptions) -> dict[str, Any]:
    """Counts of pieces found in `text`, omitted by a rule, and missing (with examples)."""
    found = 0
    by_rule: dict[str, int] = {}
    missing: list[str] = []
    limit = options.max_observation_chars or 0
    for piece in session_pieces(session, options):
        needle = normalise_newlines(piece.text).strip()
        if needle in text:
            found += 1
        elif piece.capped and _head_and_tail_present(needle, text, limit):
            by_rule["observation_capped"] = by_rule.get("observation_capped", 0) + 1
        elif piece.rule is not None:
            by_rule[piece.rule] = by_rule.get(piece.rule, 0) + 1
        else:
            missing.append(piece.where)
    total = found + sum(by_rule.values()) + len(missing)
    return {"pieces": total, "in_text": found, "omitted_by_rule": dict(sorted(by_rule.items())),
            "missing": len(missing), "missing_examples": missing[:MAX_LISTED_MISSING],
            "share_accounted": round((total - len(missing)) / total, 6) if total else 1.0}


def _head_and_tail_present(needle: str, text: str, limit: int) -> bool:
    """A capped result keeps its head and tail; both must be in the text."""
    edge = max(1, min(limit // 5, 200))
    return needle[:edge].strip() in text and needle[-edge:].strip() in text
