"""OpenAI chat messages with `tool_calls` (JSON-string arguments) and `role: tool` replies.

Accepted shapes: a JSON array of messages; an object with `messages`; JSONL where every
line is a message (one session per file) or every line is an object with `messages`
(one session per line).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from longweave.schemas.trajectory import Session
from longweave.sources.trajectories.chat import messages_to_steps
from longweave.sources.trajectories.common import JsonLine, Problem, as_str, leftovers

FORMAT = "openai-chat"
_ROLES = {"system", "developer", "user", "assistant", "tool", "function"}


def is_message(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get("role") in _ROLES


def detect(data: Any) -> bool:
    if isinstance(data, list):
        return bool(data) and all(is_message(m) for m in data)
    return (isinstance(data, Mapping) and isinstance(data.get("messages"), list)
            and bool(data["messages"]) and all(is_message(m) for m in data["messages"]))


def detect_lines(values: list[Any]) -> bool:
    objects = [v for v in values if isinstance(v, Mapping)]
    return bool(objects) and (all(is_message(v) for v in objects) or all(detect(v) for v in objects))


def import_document(data: Any, record: str = "*") -> Iterator[Session | Problem]:
    if isinstance(data, list):
        yield Session(session_id="", format=FORMAT, steps=messages_to_steps(data), record=record)
        return
    yield Session(session_id=as_str(data.get("id") or data.get("session_id")) or "",
                  format=FORMAT, steps=messages_to_steps(data["messages"]), record=record,
                  model=as_str(data.get("model")),
                  extra=leftovers(data, ("messages", "id", "session_id", "model")))


def import_lines(lines: list[JsonLine]) -> Iterator[Session | Problem]:
    good: list[JsonLine] = []
    for line in lines:
        if line.error:
            yield Problem(line.key, line.error)
        elif not isinstance(line.value, Mapping):
            yield Problem(line.key, f"malformed: record is {type(line.value).__name__}, "
                                    "not an object")
        else:
            good.append(line)
    if all(is_message(line.value) for line in good):
        if good:
            yield from import_document([line.value for line in good], "*")
        return
    for line in good:
        if detect(line.value):
            yield from import_document(line.value, line.key)
        else:
            yield Problem(line.key, "malformed: line has no `messages` list of chat messages")
