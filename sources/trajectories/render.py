"""A session as one training document: turns in order, each a `turn:<source>` span.

Every turn is rendered on its own (by the built-in layout or by a Jinja chat template
given one message at a time), so span boundaries are exact whatever the template does.
Turns whose category the options list in `loss_off` also get a `loss:off` span, from
which the packer builds the loss mask.

What is not rendered is counted (`Rendered.skipped`): runtime noise steps, steps with
nothing in them, excluded demos. A call read out of the message text (`implicit`) is not
printed again when the text already shows its command; other calls print their arguments
as the model wrote them (`raw_arguments`). Newlines are normalised as for books.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from longweave.schemas.document import Span
from longweave.schemas.recipe_sources import TrajectoryOptions
from longweave.schemas.spans import LOSS_OFF, turn_label
from longweave.schemas.trajectory import ObservationResult, Session, Step, ToolCall
from longweave.sources.trajectories.common import normalise_newlines

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
    skipped: dict[str, int] = field(default_factory=dict)  # steps not rendered, per reason


def session_turns(session: Session, options: TrajectoryOptions
                  ) -> tuple[list[Turn], dict[str, int], dict[str, int]]:
    """The turns of a session in order, observations capped; returns cap and skip counts."""
    calls = session.call_by_id()
    capped = {"observations_capped": 0, "observation_chars_omitted": 0}
    skipped: dict[str, int] = {}
    turns: list[Turn] = []
    if options.include_summary and session.summary:
        turns.append(Turn("system", "summary",
                          {"role": "system", "content": f"Summary: {session.summary}"}))
    for step in session.steps:
        reason = skip_reason(step, options)
        if reason is not None:
            skipped[reason] = skipped.get(reason, 0) + 1
            continue
        demo = bool(step.extra.get("is_demo"))
        if step.message or step.tool_calls or step.reasoning:
            category = "demo" if demo else step.source
            turns.append(Turn(step.source, category, _message(step, options)))
        for result in step.observations:
            content = _cap(result.content, options.max_observation_chars, capped)
            call = calls.get(result.source_call_id or "")
            turns.append(Turn("environment", "demo" if demo else "environment",
                              _observation_message(result, content, call), True))
    return turns, capped, dict(sorted(skipped.items()))


def skip_reason(step: Step, options: TrajectoryOptions) -> str | None:
    """Why a step is not rendered (counted in meta), or None when it is."""
    if step.noise:
        return f"noise:{step.noise}"
    if step.extra.get("is_demo") and not options.include_demos:
        return "demo_excluded"
    if not (step.message.strip() or step.tool_calls or step.reasoning or step.observations):
        return "empty_step"
    return None


def shown_calls(step: Step) -> list[ToolCall]:
    """The calls printed as `<tool_call>` blocks: all but implicit ones the text shows."""
    return [call for call in step.tool_calls
            if not (call.implicit and _command_of(call).strip()
                    and _command_of(call).strip() in step.message)]


def _command_of(call: ToolCall) -> str:
    command = call.arguments.get("command")
    return command if isinstance(command, str) else ""


def arguments_text(call: ToolCall) -> str:
    """The arguments as the model wrote them, else the parsed object as JSON."""
    if call.raw_arguments is not None:
        return call.raw_arguments
    return json.dumps(call.arguments, ensure_ascii=False, sort_keys=True)


def _message(step: Step, options: TrajectoryOptions) -> dict[str, Any]:
    message: dict[str, Any] = {"role": ROLE_OF[step.source], "content": step.message}
    if step.reasoning and options.include_reasoning:
        message["reasoning_content"] = step.reasoning
    calls = shown_calls(step)
    if calls:
        # templates get the parsed object (what HF chat templates expect) unless only the
        # raw text exists; the built-in layout prints `raw_arguments`, verbatim
        message["tool_calls"] = [
            {"id": c.call_id, "type": "function", "raw_arguments": arguments_text(c),
             "function": {"name": c.name, "arguments": c.arguments
                          if c.arguments or c.raw_arguments is None else c.raw_arguments}}
            for c in calls]
    return message


def _observation_message(result: ObservationResult, content: str, call: ToolCall | None
                         ) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "tool", "content": content,
                               "tool_call_id": result.source_call_id}
    name = call.name if call is not None else result.extra.get("name")
    if name:
        message["name"] = name
    if result.exit_code is not None:
        message["exit_code"] = result.exit_code
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
        if message.get("exit_code") is not None:
            header += f" exit_code={message['exit_code']}"
        if message.get("is_error"):
            header += " error"
    parts = [header]
    if message.get("reasoning_content"):
        parts.append(f"<think>\n{message['reasoning_content']}\n</think>")
    if message.get("content"):
        parts.append(message["content"])
    for call in message.get("tool_calls") or []:
        parts.append(f"<tool_call name={call['function']['name']} id={call['id']}>\n"
                     f"{call['raw_arguments']}\n</tool_call>")
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
    turns, capped, skipped = session_turns(session, options)
    render_turn = template_renderer(options.chat_template) if options.chat_template else (
        default_turn)
    pieces: list[str] = []
    spans: list[Span] = []
    placed: list[tuple[int, int, Turn]] = []
    position = 0
    loss_off = set(options.loss_off)
    for turn in turns:
        piece = normalise_newlines(render_turn(turn.message))
        start, end = position, position + len(piece)
        pieces.append(piece)
        spans.append(Span(start, end, turn_label(turn.source)))
        if turn.category in loss_off or (turn.category == "demo" and turn.source in loss_off):
            spans.append(Span(start, end, LOSS_OFF))
        placed.append((start, end, turn))
        position = end
    return Rendered("".join(pieces), _merge_loss_off(spans), placed, capped, skipped)


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
