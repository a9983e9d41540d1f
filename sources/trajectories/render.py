"""A session as one training document: turns in order, each a `turn:<source>` span.

Every turn is rendered on its own (by the built-in layout or by a Jinja chat template
given one message at a time), so span boundaries are exact whatever the template does.
Turns whose category the options list in `loss_off` also get a `loss:off` span, from
which the packer builds the loss mask.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from longweave.schemas.document import Span
from longweave.schemas.recipe_sources import TrajectoryOptions
from longweave.schemas.spans import LOSS_OFF, turn_label
from longweave.schemas.trajectory import ObservationResult, Session, Step, ToolCall

ROLE_OF = {"system": "system", "user": "user", "agent": "assistant", "environment": "tool"}
CAP_MARKER = "\n[... {omitted} characters omitted ...]\n"


@dataclass(frozen=True)
class Turn:
    """One rendered unit: `source` for the span label, `category` for loss masking."""

    source: str
    category: str
    message: dict[str, Any]
    is_observation: bool = False


@dataclass
class Rendered:
    text: str
    spans: list[Span]
    turns: list[tuple[int, int, Turn]]
    capped: dict[str, int] = field(default_factory=dict)


def session_turns(session: Session, options: TrajectoryOptions) -> tuple[list[Turn], dict]:
    """The turns of a session in order, with observations capped; returns cap counts too."""
    calls = session.call_by_id()
    capped = {"observations_capped": 0, "observation_chars_omitted": 0}
    turns: list[Turn] = []
    if options.include_summary and session.summary:
        turns.append(Turn("system", "summary",
                          {"role": "system", "content": f"Summary: {session.summary}"}))
    for step in session.steps:
        demo = bool(step.extra.get("is_demo"))
        if demo and not options.include_demos:
            continue
        if step.message or step.tool_calls or step.reasoning or not step.observations:
            category = "demo" if demo else step.source
            turns.append(Turn(step.source, category, _message(step, options)))
        for result in step.observations:
            content = _cap(result.content, options.max_observation_chars, capped)
            call = calls.get(result.source_call_id or "")
            turns.append(Turn("environment", "demo" if demo else "environment",
                              _observation_message(result, content, call), True))
    return turns, capped


def _message(step: Step, options: TrajectoryOptions) -> dict[str, Any]:
    message: dict[str, Any] = {"role": ROLE_OF[step.source], "content": step.message}
    if step.reasoning and options.include_reasoning:
        message["reasoning_content"] = step.reasoning
    if step.tool_calls:
        message["tool_calls"] = [
            {"id": c.call_id, "type": "function",
             "function": {"name": c.name, "arguments": c.arguments}} for c in step.tool_calls]
    return message


def _observation_message(result: ObservationResult, content: str, call: ToolCall | None
                         ) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "tool", "content": content,
                               "tool_call_id": result.source_call_id}
    if call is not None:
        message["name"] = call.name
    if result.is_error:
        message["is_error"] = True
    return message


def _cap(content: str, limit: int | None, capped: dict[str, int]) -> str:
    """Keep the head and tail of a long observation, with a marker saying what was cut."""
    if limit is None or len(content) <= limit:
        return content
    head = limit * 3 // 5
    tail = limit - head
    omitted = len(content) - head - tail
    capped["observations_capped"] += 1
    capped["observation_chars_omitted"] += omitted
    return content[:head] + CAP_MARKER.format(omitted=omitted) + content[len(content) - tail:]


def default_turn(message: dict[str, Any]) -> str:
    """The built-in layout: role header, optional thinking, text, calls as JSON, end mark."""
    role = message["role"]
    header = f"<|{role}|>"
    if role == "tool":
        name = message.get("name") or "tool"
        header += f" {name} [{message.get('tool_call_id') or '?'}]"
        if message.get("is_error"):
            header += " error"
    parts = [header]
    if message.get("reasoning_content"):
        parts.append(f"<think>\n{message['reasoning_content']}\n</think>")
    if message.get("content"):
        parts.append(message["content"])
    for call in message.get("tool_calls") or []:
        arguments = json.dumps(call["function"]["arguments"], ensure_ascii=False, sort_keys=True)
        parts.append(f"<tool_call name={call['function']['name']} id={call['id']}>\n"
                     f"{arguments}\n</tool_call>")
    return "\n".join(parts) + "\n<|end|>\n"


def template_renderer(chat_template: str):
    """A turn renderer from a Jinja chat template (sandboxed, as chat templates usually are)."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    environment = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    environment.filters.setdefault("tojson", lambda v: json.dumps(v, ensure_ascii=False,
                                                                  sort_keys=True))
    template = environment.from_string(chat_template)

    def render(message: dict[str, Any]) -> str:
        return template.render(messages=[message], add_generation_prompt=False,
                               bos_token="", eos_token="")

    return render


def render_session(session: Session, options: TrajectoryOptions) -> Rendered:
    turns, capped = session_turns(session, options)
    render_turn = template_renderer(options.chat_template) if options.chat_template else (
        default_turn)
    pieces: list[str] = []
    spans: list[Span] = []
    placed: list[tuple[int, int, Turn]] = []
    position = 0
    loss_off = set(options.loss_off)
    for turn in turns:
        piece = render_turn(turn.message)
        start, end = position, position + len(piece)
        pieces.append(piece)
        spans.append(Span(start, end, turn_label(turn.source)))
        if turn.category in loss_off or (turn.category == "demo" and turn.source in loss_off):
            spans.append(Span(start, end, LOSS_OFF))
        placed.append((start, end, turn))
        position = end
    return Rendered("".join(pieces), _merge_loss_off(spans), placed, capped)


def _merge_loss_off(spans: list[Span]) -> list[Span]:
    """Adjacent `loss:off` spans become one, so masks stay short; other spans untouched."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.label != LOSS_OFF, s.start)):
        last = merged[-1] if merged else None
        if (span.label == LOSS_OFF and last is not None and last.label == LOSS_OFF
                and last.end == span.start):
            merged[-1] = Span(last.start, span.end, LOSS_OFF)
        else:
            merged.append(span)
    return sorted(merged)
