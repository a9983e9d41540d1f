"""Session statistics for meta, including how far back the agent reaches into its history.

"Refers back" is defined concretely: a tool result *introduces* every distinctive token
(a path, a dotted or snake_case name, an identifier mixing letters and digits; at least
7 characters, see `distinctive_tokens`) that no earlier turn contained. A later agent
turn refers back to that result when its rendered text contains one of those tokens. The
distance of a result is measured in characters of the rendered document, from the end
of the result's turn to the start of the last agent turn that refers back to it; the
statistic is the longest such distance in the session.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timezone
from typing import Any

from longweave.schemas.trajectory import Session
from longweave.sources.trajectories.render import Rendered, Turn

_TOKEN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]{5,}[A-Za-z0-9_]")
_HAS_LETTER = re.compile(r"[A-Za-z]")
_HAS_DIGIT = re.compile(r"[0-9]")


def distinctive_tokens(text: str) -> set[str]:
    """Tokens specific enough that seeing one again means the text is being reused."""
    found = set()
    for token in _TOKEN.findall(text):
        candidates = [token]
        if "/" in token:  # `/repo/tests/x.py` is also reused as `tests/x.py` or `x.py`
            parts = token.split("/")
            candidates += ["/".join(parts[i:]) for i in range(1, len(parts))]
        for candidate in candidates:
            if len(candidate) >= 7 and (any(mark in candidate for mark in "/._") or (
                    _HAS_LETTER.search(candidate) and _HAS_DIGIT.search(candidate))):
                found.add(candidate)
    return found


def longest_refer_back(text: str, turns: list[tuple[int, int, Turn]]) -> dict[str, Any]:
    """The longest result-to-last-reference distance, with the token that made the link."""
    seen: set[str] = set()
    introduced_by: dict[str, int] = {}  # token -> index of the observation turn
    last_reference: dict[int, tuple[int, str]] = {}
    for index, (start, end, turn) in enumerate(turns):
        tokens = distinctive_tokens(text[start:end])
        if turn.source == "agent":
            for token in sorted(tokens):
                origin = introduced_by.get(token)
                if origin is not None:
                    last_reference[origin] = (start, token)
        if turn.is_observation:
            for token in tokens - seen:
                introduced_by[token] = index
        seen |= tokens
    best, best_token = 0, None
    links = []
    for origin, (start, token) in sorted(last_reference.items()):
        links.append([turns[origin][1], start])
        distance = start - turns[origin][1]
        if distance > best:
            best, best_token = distance, token
    # `dependency_links`: [earlier char, later char] pairs, which the tokenize step turns
    # into distances in tokens for the report
    return {"longest_refer_back_chars": best, "refer_back_token": best_token,
            "results_referred_back": len(last_reference), "dependency_links": links}


def parse_time(value: str | None) -> float | None:
    """Seconds since the epoch from ISO-8601 text (with or without `Z`) or an epoch number."""
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        pass
    else:
        return number / 1000.0 if number > 1e11 else number
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:  # naive times are read as UTC, never as the worker's zone
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def session_stats(session: Session, rendered: Rendered, raw_observation_bytes: int
                  ) -> dict[str, Any]:
    steps = session.steps
    by_tool = Counter(call.name for step in steps for call in step.tool_calls)
    call_ids = {call.call_id for step in steps for call in step.tool_calls}
    answered = {r.source_call_id for step in steps for r in step.observations}
    times = [t for t in (parse_time(step.timestamp) for step in steps) if t is not None]
    tokens = {"prompt_tokens": 0, "completion_tokens": 0}
    for step in steps:
        if step.metrics is not None:
            tokens["prompt_tokens"] += step.metrics.prompt_tokens or 0
            tokens["completion_tokens"] += step.metrics.completion_tokens or 0
    stats: dict[str, Any] = {
        "steps": len(steps),
        "steps_by_source": dict(sorted(Counter(step.source for step in steps).items())),
        "tool_calls": sum(by_tool.values()),
        "tool_calls_by_tool": dict(sorted(by_tool.items())),
        "observations": session.observation_count(),
        "observation_bytes": raw_observation_bytes,
        "unanswered_tool_calls": len(call_ids - answered),
        "orphan_observations": sum(1 for step in steps for r in step.observations
                                   if r.source_call_id not in call_ids),
        "wall_clock_seconds": round(max(times) - min(times), 3) if len(times) >= 2 else None,
        "exit_status": session.exit_status,
        "demo_steps": sum(1 for step in steps if step.extra.get("is_demo")),
        "step_tokens": tokens,
    }
    stats.update(longest_refer_back(rendered.text, rendered.turns))
    return stats
