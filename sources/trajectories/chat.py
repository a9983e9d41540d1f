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
from longweave.sources.trajectories.common import as_str, leftovers, parse_arguments, text_of

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
                                      {"raw_call": raw}))
                continue
            function = raw.get("function") if isinstance(raw.get("function"), Mapping) else {}
            arguments, extra = parse_arguments(function.get("arguments"))
            extra.update(leftovers(raw, ("id", "function")))
            extra.update(leftovers(function, ("name", "arguments")))
            calls.append(ToolCall(as_str(raw.get("id")) or f"{fallback_id}-{index}",
                                  str(function.get("name") or "unknown"), arguments, extra))
    legacy = message.get("function_call")
    if isinstance(legacy, Mapping):
        arguments, extra = parse_arguments(legacy.get("arguments"))
        calls.append(ToolCall(fallback_id, str(legacy.get("name") or "unknown"), arguments,
                              extra))
    return calls


def messages_to_steps(messages: list[Any], implicit_action: ImplicitAction | None = None,
                      id_prefix: str = "call") -> list[Step]:
    """Map chat messages one-to-one onto steps (a non-object message becomes an error step).

    The count of steps always equals the count of messages, which keeps round trips
    checkable.
    """
    steps: list[Step] = []
    pending_implicit: str | None = None
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
                    timestamp=as_str(message.get("timestamp")), extra=extra)
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
        elif role in ("tool", "function"):
            step.source = "environment"
            step.observations = [_tool_reply(message, content)]
            step.message = ""
        elif role == "user" and pending_implicit is not None:
            step.source = "environment"
            step.observations = [ObservationResult(content, pending_implicit)]
            step.message = ""
            pending_implicit = None
        elif role != "user":
            extra["role"] = role
        steps.append(step)
    return steps


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
    return ObservationResult(content, call_id, extra=extra)
