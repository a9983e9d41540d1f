"""OpenAI-style chat messages to steps: the core shared by the OpenAI, SWE-agent and
mini-SWE-agent importers, which differ only in how a text-only action is spelled.

Linking rule: a `role: tool` message answers the call named by its `tool_call_id` (or
`tool_call_ids`); when an assistant message carries a *text* action (no `tool_calls`),
the next `user` message is that action's observation, so it becomes an `environment`
step tied to a synthetic call id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from longweave.schemas.trajectory import ObservationResult, Step, ToolCall
from longweave.sources.trajectories.common import (
    as_str,
    int_or_none,
    leftovers,
    parse_arguments,
    text_of,
)

ImplicitAction = Callable[[Mapping[str, Any], str], "ToolCall | None"]

_USED = ("role", "content", "tool_calls", "tool_call_id", "tool_call_ids", "function_call",
         "reasoning_content", "timestamp", "name")


def message_tool_calls(message: Mapping[str, Any], fallback_id: str) -> list[ToolCall]:
    """The calls of one assistant message (`tool_calls`, or legacy `function_call`)."""
    calls: list[ToolCall] = []
    raw_calls = message.get("tool_calls") or []
    if isinstance(raw_calls, list):
        for index, raw in enumerate(raw_calls):
            if not isinstance(raw, Mapping):
                calls.append(ToolCall(f"{fallback_id}-{index}", "unknown", {},
                                      {"raw_call": raw}, raw_arguments=as_str(raw)))
                continue
            function = raw.get("function") if isinstance(raw.get("function"), Mapping) else {}
            arguments, verbatim = parse_arguments(function.get("arguments"))
            extra = leftovers(raw, ("id", "function"))
            extra.update(leftovers(function, ("name", "arguments")))
            calls.append(ToolCall(as_str(raw.get("id")) or f"{fallback_id}-{index}",
                                  str(function.get("name") or "unknown"), arguments, extra,
                                  raw_arguments=verbatim))
    legacy = message.get("function_call")
    if isinstance(legacy, Mapping):
        arguments, verbatim = parse_arguments(legacy.get("arguments"))
        calls.append(ToolCall(fallback_id, str(legacy.get("name") or "unknown"), arguments,
                              raw_arguments=verbatim))
    return calls


def messages_to_steps(messages: list[Any], implicit_action: ImplicitAction | None = None,
                      id_prefix: str = "call") -> list[Step]:
    """Map chat messages one-to-one onto steps (a non-object message becomes an error step).

    The count of steps always equals the count of messages, which keeps round trips
    checkable. A `role: exit` message (mini-SWE-agent's last record: the submission the
    final command printed) answers the call still open, so it renders as that call's result.
    """
    steps: list[Step] = []
    pending_implicit: str | None = None
    open_calls: list[str] = []
    for index, message in enumerate(messages):
        if not isinstance(message, Mapping):
            steps.append(Step(index, "environment", text_of(message),
                              extra={"malformed_message": True}))
            continue
        role = str(message.get("role") or "")
        content = text_of(message.get("content"))
        extra = leftovers(message, _USED)
        if message.get("name") is not None:
            extra["name"] = message["name"]
        if not isinstance(message.get("content"), str | None):
            extra["content_parts"] = message.get("content")
        step = Step(index, "user", content, reasoning=as_str(message.get("reasoning_content")),
                    timestamp=_timestamp(message), extra=extra)
        if role == "system" or role == "developer":
            step.source = "system"
            extra["role"] = role
        elif role == "assistant":
            step.source = "agent"
            step.tool_calls = message_tool_calls(message, f"{id_prefix}-{index}")
            pending_implicit = None
            if not step.tool_calls and implicit_action is not None:
                implicit = implicit_action(message, f"{id_prefix}-{index}")
                if implicit is not None:
                    step.tool_calls = [implicit]
                    pending_implicit = implicit.call_id
            open_calls = [call.call_id for call in step.tool_calls]
        elif role in ("tool", "function"):
            step.source = "environment"
            step.observations = [_tool_reply(message, content)]
            step.message = ""
            _close(open_calls, step.observations[0].source_call_id)
        elif role == "user" and pending_implicit is not None:
            step.source = "environment"
            step.observations = [ObservationResult(content, pending_implicit)]
            step.message = ""
            _close(open_calls, pending_implicit)
            pending_implicit = None
        elif role == "exit":
            step.source = "environment"
            extra["role"] = role
            call_id = open_calls[-1] if open_calls else None
            step.observations = [ObservationResult(content, call_id)]
            step.message = ""
            _close(open_calls, call_id)
            pending_implicit = None
        elif role != "user":
            extra["role"] = role
        steps.append(step)
    return steps


def _close(open_calls: list[str], call_id: str | None) -> None:
    if call_id in open_calls:
        open_calls.remove(call_id)


def _timestamp(message: Mapping[str, Any]) -> str | None:
    """`timestamp`, or mini-SWE-agent's `extra.timestamp` (epoch seconds)."""
    if message.get("timestamp") is not None:
        return as_str(message.get("timestamp"))
    extra = message.get("extra")
    return as_str(extra.get("timestamp")) if isinstance(extra, Mapping) else None


def _tool_reply(message: Mapping[str, Any], content: str) -> ObservationResult:
    ids = message.get("tool_call_ids")
    call_id = as_str(message.get("tool_call_id"))
    extra: dict[str, Any] = {}
    if call_id is None and isinstance(ids, list) and ids:
        call_id = as_str(ids[0])
        if len(ids) > 1:
            extra["tool_call_ids"] = ids
    if call_id is None and message.get("name") is not None:
        extra["function_name"] = message.get("name")
    details = message.get("extra") if isinstance(message.get("extra"), Mapping) else {}
    exit_code = int_or_none(details.get("returncode", message.get("exit_code")))
    is_error = bool(details.get("exception_info") or details.get("exception")) or None
    return ObservationResult(content, call_id, is_error=is_error, extra=extra,
                             exit_code=exit_code)
