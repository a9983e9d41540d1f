"""OpenHands event streams and evaluation `output.jsonl` records.

An event is an action (`action`, `args`) or an observation (`observation`, `content`,
`extras`, `cause` = the id of the action it answers). Events the LLM produced carry
`tool_call_metadata` with the full OpenAI completion; from it we take the call exactly
as the model wrote it (name, JSON arguments), its usage and its model name. Older
evaluation records store `history` as `[action, observation]` pairs without ids; the
pair itself then links the observation to its action.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from longweave.schemas.trajectory import ObservationResult, Session, Step, ToolCall
from longweave.sources.trajectories.common import (
    JsonLine,
    Problem,
    as_str,
    leftovers,
    openai_usage_metrics,
    parse_arguments,
    text_of,
)

FORMAT = "openhands"
NON_TOOL_ACTIONS = frozenset({"message", "system", "change_agent_state", "null"})
_SOURCES = {"agent": "agent", "user": "user", "environment": "environment"}


def _is_event(value: Any) -> bool:
    return isinstance(value, Mapping) and ("action" in value or "observation" in value)


def _is_pair(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and all(_is_event(v) for v in value)


def detect(data: Any) -> bool:
    if isinstance(data, list):
        return bool(data) and all(_is_event(e) or _is_pair(e) for e in data)
    return isinstance(data, Mapping) and _is_eval_record(data)


def _is_eval_record(data: Mapping[str, Any]) -> bool:
    history = data.get("history")
    return isinstance(history, list) and ("instance_id" in data or (
        bool(history) and all(_is_event(e) or _is_pair(e) for e in history)))


def detect_lines(values: list[Any]) -> bool:
    objects = [v for v in values if isinstance(v, Mapping)]
    return bool(objects) and all(_is_eval_record(v) for v in objects)


def import_document(data: Any, record: str = "*") -> Iterator[Session | Problem]:
    if isinstance(data, list):
        steps, status = events_to_steps(data)
        yield Session(session_id="", format=FORMAT, steps=steps, record=record,
                      agent_name="openhands", model=_first_model(steps), exit_status=status)
        return
    history = data.get("history") or []
    steps, status = events_to_steps(history)
    metadata = data.get("metadata") if isinstance(data.get("metadata"), Mapping) else {}
    llm = metadata.get("llm_config") if isinstance(metadata.get("llm_config"), Mapping) else {}
    if data.get("error"):
        status = f"error: {data['error']}"
    yield Session(
        session_id=as_str(data.get("instance_id")) or "", format=FORMAT, steps=steps,
        record=record, agent_name=as_str(metadata.get("agent_class")) or "openhands",
        model=as_str(llm.get("model")) or _first_model(steps), exit_status=status,
        extra=leftovers(data, ("history", "instance_id")))


def import_lines(lines: list[JsonLine]) -> Iterator[Session | Problem]:
    for line in lines:
        if line.error:
            yield Problem(line.key, line.error)
        elif not isinstance(line.value, Mapping) or not _is_eval_record(line.value):
            yield Problem(line.key, "malformed: not an OpenHands record with a `history` list")
        else:
            yield from import_document(line.value, line.key)


def events_to_steps(events: list[Any]) -> tuple[list[Step], str | None]:
    """One step per event (pairs count as two); returns the steps and the final agent state."""
    steps: list[Step] = []
    call_of_event: dict[Any, str] = {}
    seen_responses: set[str] = set()
    status: str | None = None
    for item in events:
        pair_call: str | None = None
        for event in (item if _is_pair(item) else [item]):
            if not isinstance(event, Mapping):
                steps.append(Step(len(steps), "environment", text_of(event),
                                  extra={"malformed_event": True}))
                continue
            if "action" in event:
                step = _action_step(event, len(steps), seen_responses)
                if step.tool_calls:
                    call_of_event[event.get("id", f"index-{len(steps)}")] = step.tool_calls[0].call_id
                    pair_call = step.tool_calls[0].call_id
                if event.get("action") == "finish":
                    status = "finished"
            else:
                cause = event.get("cause")
                call_id = call_of_event.get(cause) if cause is not None else pair_call
                step = _observation_step(event, len(steps), call_id)
                extras = event.get("extras")
                if isinstance(extras, Mapping) and extras.get("agent_state"):
                    status = str(extras["agent_state"])
            steps.append(step)
    return steps, status


def _action_step(event: Mapping[str, Any], index: int, seen_responses: set[str]) -> Step:
    action = str(event.get("action"))
    args = event.get("args") if isinstance(event.get("args"), Mapping) else {}
    source = _SOURCES.get(str(event.get("source")), "agent")
    if action == "system":
        source = "system"
    extra = leftovers(event, ("action", "args", "source", "timestamp", "tool_call_metadata"))
    extra["action"] = action
    step = Step(index, source, timestamp=as_str(event.get("timestamp")), extra=extra)
    metadata = event.get("tool_call_metadata")
    response = metadata.get("model_response") if isinstance(metadata, Mapping) else None
    if isinstance(response, Mapping):
        step.model = as_str(response.get("model"))
        response_id = str(response.get("id"))
        if response_id not in seen_responses:
            seen_responses.add(response_id)
            step.metrics = openai_usage_metrics(response.get("usage"))
            choice = _first_choice(response)
            step.reasoning = as_str(choice.get("reasoning_content"))
        extra["tool_call_metadata"] = leftovers(metadata, ())
    if action in NON_TOOL_ACTIONS and not isinstance(metadata, Mapping):
        step.message = text_of(args.get("content")) or as_str(event.get("message")) or ""
        extra["args"] = dict(args)
        return step
    step.message = as_str(args.get("thought")) or ""
    step.tool_calls = [_call(event, action, args, metadata, index)]
    return step


def _call(event: Mapping[str, Any], action: str, args: Mapping[str, Any], metadata: Any,
          index: int) -> ToolCall:
    """The call as the model wrote it when the completion is recorded, else the action."""
    extra: dict[str, Any] = {"args": dict(args)}
    if isinstance(metadata, Mapping):
        call_id = as_str(metadata.get("tool_call_id")) or f"event-{event.get('id', index)}"
        name = as_str(metadata.get("function_name")) or action
        for raw in _first_choice(metadata.get("model_response")).get("tool_calls") or []:
            if isinstance(raw, Mapping) and as_str(raw.get("id")) == call_id:
                function = raw.get("function") if isinstance(raw.get("function"), Mapping) else {}
                arguments, more = parse_arguments(function.get("arguments"))
                extra.update(more)
                return ToolCall(call_id, name, arguments, extra)
        return ToolCall(call_id, name, {k: v for k, v in args.items() if k != "thought"}, extra)
    return ToolCall(f"event-{event.get('id', index)}", action,
                    {k: v for k, v in args.items() if k != "thought"}, extra)


def _first_choice(response: Any) -> Mapping[str, Any]:
    choices = response.get("choices") if isinstance(response, Mapping) else None
    if isinstance(choices, list) and choices and isinstance(choices[0], Mapping):
        message = choices[0].get("message")
        return message if isinstance(message, Mapping) else {}
    return {}


def _observation_step(event: Mapping[str, Any], index: int, call_id: str | None) -> Step:
    extra = leftovers(event, ("observation", "content", "extras", "timestamp", "cause",
                              "tool_call_metadata"))
    extra["observation"] = event.get("observation")
    if event.get("cause") is not None:
        extra["cause"] = event.get("cause")
    metadata = event.get("tool_call_metadata")
    if isinstance(metadata, Mapping):
        extra["tool_call_metadata"] = dict(metadata)
        call_id = call_id or as_str(metadata.get("tool_call_id"))
    result = ObservationResult(text_of(event.get("content")), call_id,
                               extra={"extras": event.get("extras")} if event.get("extras")
                               else {})
    return Step(index, "environment", observations=[result],
                timestamp=as_str(event.get("timestamp")), extra=extra)


def _first_model(steps: list[Step]) -> str | None:
    return next((step.model for step in steps if step.model), None)
