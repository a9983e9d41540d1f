"""Trajectory families: which earlier tool result showed what the agent used, and the outcome.

The reader records refer-back links (`dependency_links`: [result end, referring agent turn
start]); the family finds the token that made each link again (a distinctive token of the
result that the agent turn repeats and no earlier text holds). The outcome family reads
the trajectories reader's `resolved` (bool, or None/absent when no evaluation is known:
then the family has nothing to ask).
"""

from __future__ import annotations

import re

from longweave.schemas.document import Document
from longweave.schemas.meta import DEPENDENCY_LINKS
from longweave.synth.families.base import Family, Grounded, Unit, line_span, quote, turns

_TOKEN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]{5,}[A-Za-z0-9_]")
RESULT = "environment"
AGENT = "agent"


def _specific(token: str) -> bool:
    """Specific enough that seeing it again means reuse: a path, dotted or snake name, or
    letters mixed with digits."""
    return len(token) >= 7 and (any(c in token for c in "/._") or (
        any(c.isalpha() for c in token) and any(c.isdigit() for c in token)))


def _turn_ending(items: list[Unit], end: int) -> Unit | None:
    return next((u for u in items if u.end == end), None)


def _turn_starting(items: list[Unit], start: int) -> Unit | None:
    return next((u for u in items if u.start == start), None)


def _line_with(text: str, unit: Unit, token: str) -> tuple[int, int] | None:
    at = text.find(token, unit.body_start, unit.end)
    return None if at < 0 else line_span(text, unit.body_start, unit.end, at)


def find_refer_back(doc: Document, limit: int) -> list[Grounded]:
    items = turns(doc, limit)
    out = []
    for result_end, agent_start in doc.meta.get(DEPENDENCY_LINKS) or []:
        result, agent = _turn_ending(items, result_end), _turn_starting(items, agent_start)
        if result is None or agent is None or result.name != RESULT or agent.name != AGENT:
            continue
        before = doc.text[:result.start]
        agent_text = doc.text[agent.start:agent.end]
        shared = sorted({t for t in _TOKEN.findall(doc.text, result.start, result.end)
                         if _specific(t) and t in agent_text and t not in before},
                        key=lambda t: (-len(t), t))
        if not shared:
            continue
        token = shared[0]
        evidence = _line_with(doc.text, result, token)
        used = _line_with(doc.text, agent, token)
        if evidence is None or used is None or quote(doc.text, evidence).strip() == "":
            continue
        used_line = quote(doc.text, used)[:200]
        out.append(Grounded(
            "traj_refer_back",
            f"Later in the run above, an agent turn uses `{token}` (it wrote: \"{used_line}\"). "
            "Which earlier tool result first showed it? Quote the line of that result.",
            f"A tool result earlier in the run first showed `{token}`:\n"
            f"\"{quote(doc.text, evidence)}\"",
            [evidence], (agent.start, agent.end),
            {"token": token, "result_start": result.start, "agent_start": agent.start},
            token))
    return out


def check_refer_back(doc: Document, g: Grounded) -> list[str]:
    token = g.facts["token"]
    items = turns(doc)
    result = _turn_starting(items, g.facts["result_start"])
    agent = _turn_starting(items, g.facts["agent_start"])
    if result is None or agent is None or (result.name, agent.name) != (RESULT, AGENT):
        return ["evidence must be a tool result and the subject an agent turn"]
    if result.start >= agent.start:
        return ["the result must come before the agent turn"]
    if token in doc.text[:result.start]:
        return [f"{token} appears before the result that should introduce it"]
    span = g.evidence[0]
    if not (result.body_start <= span[0] < span[1] <= result.end) or token not in quote(doc.text,
                                                                                          span):
        return [f"evidence is not a line of the result holding {token}"]
    if token not in doc.text[agent.start:agent.end]:
        return [f"the agent turn does not use {token}"]
    return []


def find_outcome(doc: Document, limit: int) -> list[Grounded]:
    resolved = doc.meta.get("resolved")
    if not isinstance(resolved, bool):
        return []
    agents = [u for u in turns(doc, limit) if u.name == AGENT]
    if not agents or agents[-1].end != max(u.end for u in turns(doc)):
        # the run must be whole inside the context, or its end is not what was evaluated
        agents = [u for u in turns(doc) if u.name == AGENT] if len(doc.text) <= limit else []
    if not agents:
        return []
    last = agents[-1]
    line = _last_line(doc.text, last)
    if line is None:
        return []
    verdict = "resolved" if resolved else "not resolved"
    return [Grounded(
        "traj_outcome",
        "Did the run above resolve its task? Quote the agent's last action and say whether "
        "the task was resolved.",
        f"The agent's last action was: \"{quote(doc.text, line)}\"\nThe evaluation recorded "
        f"the task as {verdict}.",
        [line], None, {"resolved": resolved, "agent_start": last.start}, verdict)]


def _last_line(text: str, unit: Unit) -> tuple[int, int] | None:
    """The last line of a turn with words in it (its closing marker aside)."""
    pos = unit.end
    while pos > unit.body_start:
        start = text.rfind("\n", unit.body_start, pos - 1) + 1
        a, b = line_span(text, max(start, unit.body_start), pos, max(start, unit.body_start))
        if b - a >= 3 and re.search(r"[A-Za-z]{3}", text[a:b]) and not text[a:b].startswith("<|"):
            return a, b
        pos = start
        if start <= unit.body_start:
            break
    return None


def check_outcome(doc: Document, g: Grounded) -> list[str]:
    if doc.meta.get("resolved") is not g.facts["resolved"]:
        return ["the outcome differs from the trajectory's evaluation"]
    agents = [u for u in turns(doc) if u.name == AGENT]
    if not agents or agents[-1].start != g.facts["agent_start"]:
        return ["evidence is not in the agent's last turn"]
    if not (agents[-1].start <= g.evidence[0][0] < g.evidence[0][1] <= agents[-1].end):
        return ["evidence lies outside the agent's last turn"]
    return []


TRAJECTORY_FAMILIES: tuple[Family, ...] = (
    Family("traj_refer_back", "links", find_refer_back, check_refer_back),
    Family("traj_outcome", "outcome", find_outcome, check_outcome, tail=True),
)
