"""OpenHands event streams and evaluation `output.jsonl` records.

An event is an action (`action`, `args`) or an observation (`observation`, `content`,
`extras`, `cause` = the id of the action it answers). Events the LLM produced carry
`tool_call_metadata` with the full OpenAI completion; from it we take the call exactly
as the model wrote it (name, JSON arguments), its usage and its model name. Older
evaluation records store `history` as `[action, observation]` pairs without ids; the
pair itself then links the observation to its action. The oldest (OpenDevin) schema is
flat: an action's arguments and an observation's extras sit beside `action` /
`observation` (no `args`, `extras`, `source`, `id` or `cause`); it is read the same way,
a missing `source` inferred (the first message is the user's task).

Runtime noise (`agent_state_changed`, `change_agent_state`, empty `null` observations,
the `recall` query that repeats the task) stays a step, so counts match the input, but is
marked `noise` and never rendered. Exit codes (`extras.metadata.exit_code`, `exit_code`,
or the runtime's `[The command completed with exit code N.]`) and `error` observations
are kept on the result. A record's task and outcome (`instance`, `test_result`, resolver
`success`) go to the session's outcome.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from longweave.schemas.trajectory import Metrics, ObservationResult, Session, Step, ToolCall
from longweave.sources.trajectories.common import (
    JsonLine,
    Problem,
    as_str,
    int_or_none,
    leftovers,
    openai_usage_metrics,
    parse_arguments,
    text_of,
)

FORMAT = "openhands"
NON_TOOL_ACTIONS = frozenset({"message", "system", "change_agent_state", "null", "recall"})
NOISE_ACTIONS = frozenset({"change_agent_state", "null", "recall"})
NOISE_OBSERVATIONS = frozenset({"agent_state_changed"})
_SOURCES = {"agent": "agent", "user": "user", "environment": "environment"}
_EVENT_KEYS = ("id", "timestamp", "source", "message", "cause", "tool_call_metadata",
               "timeout", "llm_metrics", "action", "observation", "content", "args", "extras")
_EXIT_MARK = re.compile(r"\[The command completed with exit code (-?\d+)\.\]")


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
        model=as_str(llm.get("model") or metadata.get("model_name")) or _first_model(steps),
        exit_status=status, final_metrics=_record_metrics(data.get("metrics")),
        extra=leftovers(data, ("history", "instance_id")), outcome=record_outcome(data))


def _record_metrics(raw: Any) -> Metrics | None:
    """The run's `metrics` (accumulated cost, token usage) as the session's final metrics."""
    if not isinstance(raw, Mapping):
        return None
    usage = raw.get("accumulated_token_usage")
    found = openai_usage_metrics(usage, raw.get("accumulated_cost")) or Metrics()
    found.extra.update(leftovers(raw, ("accumulated_cost", "accumulated_token_usage")))
    return None if found.is_empty() else found


def record_outcome(data: Mapping[str, Any]) -> dict[str, Any]:
    """Task and result of an evaluation / resolver record, under the meta's names."""
    instance = data.get("instance") if isinstance(data.get("instance"), Mapping) else {}
    result = data.get("test_result") if isinstance(data.get("test_result"), Mapping) else {}
    report = result.get("report") if isinstance(result.get("report"), Mapping) else {}
    resolved = report.get("resolved", data.get("resolved", data.get("success")))
    found = {
        "instance_id": as_str(data.get("instance_id") or instance.get("instance_id")),
        "problem_statement": as_str(instance.get("problem_statement")),
        "base_commit": as_str(instance.get("base_commit")),
        "fail_to_pass": _test_list(instance.get("FAIL_TO_PASS")),
        "pass_to_pass": _test_list(instance.get("PASS_TO_PASS")),
        "final_patch": as_str(result.get("git_patch")),
        "resolved": resolved if isinstance(resolved, bool) else None,
        "result_explanation": as_str(data.get("result_explanation")),
    }
    return {key: value for key, value in found.items() if value not in (None, "", [])}


def _test_list(value: Any) -> list[str] | None:
    """SWE-bench test lists arrive as a list or as a JSON string of one."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return [value]
    return [str(v) for v in value] if isinstance(value, list) else None


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
    open_calls: list[str] = []
    seen_responses: set[str] = set()
    status: str | None = None
    context = _Context()
    for item in events:
        pair_call: str | None = None
        for event in (item if _is_pair(item) else [item]):
            if not isinstance(event, Mapping):
                steps.append(Step(len(steps), "environment", text_of(event),
                                  extra={"malformed_event": True}))
                continue
            if "action" in event:
                step = _action_step(event, len(steps), seen_responses, context)
                if step.tool_calls:
                    call_id = step.tool_calls[0].call_id
                    call_of_event[event.get("id", f"index-{len(steps)}")] = call_id
                    pair_call = call_id
                    open_calls.append(call_id)
                if event.get("action") == "finish":
                    status = "finished"
            else:
                cause = event.get("cause")
                if cause is not None:
                    call_id = call_of_event.get(cause)
                elif pair_call is not None:
                    call_id = pair_call
                else:  # no ids at all: the latest call still waiting for its result
                    call_id = open_calls[-1] if open_calls else None
                step = _observation_step(event, len(steps), call_id)
                if call_id in open_calls and step.observations:
                    open_calls.remove(call_id)
                state = _fields(event, "extras").get("agent_state")
                if state:
                    status = str(state)
            steps.append(step)
    return steps, status


class _Context:
    """What source inference needs to know of earlier events (flat schema has no `source`)."""

    def __init__(self) -> None:
        self.agent_acted = False
        self.agent_waits = False


def _fields(event: Mapping[str, Any], nested: str) -> dict[str, Any]:
    """An event's `args` / `extras`, or in the flat schema the fields beside `action`.

    A flat action's `content` is an argument (a message's text, a written file); a flat
    observation's `content` is the result itself, not an extra.
    """
    value = event.get(nested)
    if isinstance(value, Mapping):
        return dict(value)
    if nested in event:
        return {}
    keep = {"content"} if nested == "args" else set()
    return {key: event[key] for key in sorted(event)
            if key not in _EVENT_KEYS or key in keep}


def _source(event: Mapping[str, Any], action: str, args: Mapping[str, Any],
            context: _Context) -> str:
    if event.get("source") in _SOURCES:
        return _SOURCES[str(event["source"])]
    if action == "system":
        return "system"
    if action == "message":
        # flat schema: the task opens the run; a message after the agent asked is the reply
        user = not context.agent_acted or context.agent_waits
        context.agent_waits = False
        if not user:
            context.agent_waits = bool(args.get("wait_for_response"))
        return "user" if user else "agent"
    return "agent"


def _action_step(event: Mapping[str, Any], index: int, seen_responses: set[str],
                 context: _Context) -> Step:
    action = str(event.get("action"))
    args = _fields(event, "args")
    source = _source(event, action, args, context)
    if action == "system":
        source = "system"
    if source == "agent":
        context.agent_acted = True
    extra = leftovers(event, ("action", "args", "source", "timestamp", "tool_call_metadata",
                              *args))
    extra["action"] = action
    if "args" not in event:
        extra["flat_schema"] = True
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
    if action in NOISE_ACTIONS and not isinstance(metadata, Mapping):
        step.noise = action
        extra["args"] = args
        return step
    if action in NON_TOOL_ACTIONS and not isinstance(metadata, Mapping):
        step.message = text_of(args.get("content")) or as_str(event.get("message")) or ""
        extra["args"] = args
        return step
    step.message = as_str(args.get("thought")) or ""
    step.tool_calls = [_call(event, action, args, metadata, index)]
    return step


def _call(event: Mapping[str, Any], action: str, args: Mapping[str, Any], metadata: Any,
          index: int) -> ToolCall:
    """The call as the model wrote it when the completion is recorded, else the action."""
    extra: dict[str, Any] = {"args": dict(args)}
    plain = {k: v for k, v in args.items() if k != "thought"}
    if isinstance(metadata, Mapping):
        call_id = as_str(metadata.get("tool_call_id")) or f"event-{event.get('id', index)}"
        name = as_str(metadata.get("function_name")) or action
        for raw in _first_choice(metadata.get("model_response")).get("tool_calls") or []:
            if isinstance(raw, Mapping) and as_str(raw.get("id")) == call_id:
                function = raw.get("function") if isinstance(raw.get("function"), Mapping) else {}
                arguments, verbatim = parse_arguments(function.get("arguments"))
                return ToolCall(call_id, name, arguments, extra, raw_arguments=verbatim)
        return ToolCall(call_id, name, plain, extra)
    return ToolCall(f"event-{event.get('id', index)}", action, plain, extra)


def _first_choice(response: Any) -> Mapping[str, Any]:
    choices = response.get("choices") if isinstance(response, Mapping) else None
    if isinstance(choices, list) and choices and isinstance(choices[0], Mapping):
        message = choices[0].get("message")
        return message if isinstance(message, Mapping) else {}
    return {}


def exit_code_of(content: str, extras: Mapping[str, Any]) -> int | None:
    """The command's exit status: `metadata.exit_code`, `exit_code`, or the runtime's mark."""
    metadata = extras.get("metadata") if isinstance(extras.get("metadata"), Mapping) else {}
    for value in (metadata.get("exit_code"), extras.get("exit_code")):
        code = int_or_none(value)
        if code is not None:
            return code
    found = _EXIT_MARK.findall(content)
    return int(found[-1]) if found else None


def recall_text(content: str, extras: Mapping[str, Any]) -> str:
    """What a `recall` observation gave the agent: its content plus the workspace context
    (repository instructions, microagent knowledge) that OpenHands keeps in `extras`."""
    lines = [content] if content.strip() else []
    for key, value in extras.items():
        if key != "recall_type" and isinstance(value, str) and value.strip():
            lines.append(f"{key}: {value}")
    for item in extras.get("microagent_knowledge") or []:
        if isinstance(item, Mapping) and isinstance(item.get("content"), str):
            lines.append(f"{item.get('name') or 'knowledge'}: {item['content']}")
    return "\n".join(lines)


def _observation_step(event: Mapping[str, Any], index: int, call_id: str | None) -> Step:
    observation = str(event.get("observation"))
    extras = _fields(event, "extras")
    extra = leftovers(event, ("observation", "content", "extras", "timestamp", "cause",
                              "tool_call_metadata", *extras))
    extra["observation"] = observation
    if event.get("cause") is not None:
        extra["cause"] = event.get("cause")
    metadata = event.get("tool_call_metadata")
    if isinstance(metadata, Mapping):
        extra["tool_call_metadata"] = dict(metadata)
        call_id = call_id or as_str(metadata.get("tool_call_id"))
    step = Step(index, "environment", timestamp=as_str(event.get("timestamp")), extra=extra)
    content = text_of(event.get("content"))
    if observation == "recall":
        content = recall_text(content, extras)
    if observation in NOISE_OBSERVATIONS or (not content.strip() and observation in (
            "null", "recall")):
        step.noise = f"{observation}_observation"
        extra["extras"] = extras
        return step
    result_extra: dict[str, Any] = {"extras": extras} if extras else {}
    if observation == "recall":
        result_extra["name"] = "recall"
    step.observations = [ObservationResult(
        content, call_id, is_error=True if observation == "error" else None,
        extra=result_extra, exit_code=exit_code_of(content, extras))]
    return step


def _first_model(steps: list[Step]) -> str | None:
    return next((step.model for step in steps if step.model), None)
