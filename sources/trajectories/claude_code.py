"""Claude Code session JSONL: one record per line, threaded by `uuid` / `parentUuid`.

Side chains (`isSidechain`, sub-agent runs started by the Task tool) and sub-agent files
(`agentId`) become sessions of their own, referenced from the main session, so a
sub-agent's work is never spliced into its parent's turn order. A record inside a
`parentUuid` cycle cannot be placed in time: it is quarantined, the rest is threaded.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from longweave.schemas.trajectory import (
    Metrics,
    ObservationResult,
    Session,
    Step,
    SubagentRef,
    ToolCall,
)
from longweave.sources.trajectories.common import (
    UNRENDERED,
    JsonLine,
    Problem,
    as_str,
    leftovers,
    text_of,
)

FORMAT = "claude-code"
MESSAGE_TYPES = frozenset({"user", "assistant", "system"})
_KNOWN_TYPES = MESSAGE_TYPES | {"summary"}


def detect_lines(values: list[Any]) -> bool:
    objects = [v for v in values if isinstance(v, Mapping)]
    typed = [v for v in objects if v.get("type") in _KNOWN_TYPES]
    return bool(typed) and any(
        "uuid" in v or "sessionId" in v or "leafUuid" in v for v in typed)


@dataclass
class _Record:
    key: str
    uuid: str
    parent: str | None
    data: Mapping[str, Any]
    children: list[str] = field(default_factory=list)


def import_lines(lines: list[JsonLine]) -> Iterator[Session | Problem]:
    records: dict[str, _Record] = {}
    summaries: list[Mapping[str, Any]] = []
    others: list[Mapping[str, Any]] = []
    for line in lines:
        value = line.value
        if line.error:
            yield Problem(line.key, line.error)
        elif not isinstance(value, Mapping):
            yield Problem(line.key, f"malformed: record is {type(value).__name__}, not an object")
        elif "type" not in value:
            yield Problem(line.key, "malformed: record has no `type`")
        elif value["type"] == "summary":
            summaries.append(value)
        elif value["type"] in MESSAGE_TYPES:
            uuid = as_str(value.get("uuid")) or f"{line.key}"
            problem = _malformed(value)
            held = records.get(uuid)
            if problem is not None:
                yield Problem(line.key, f"malformed: {line.key}: {problem}")
                continue
            if held is not None:
                yield Problem(line.key, f"duplicate: uuid {uuid} already used by {held.key}")
                continue
            records[uuid] = _Record(line.key, uuid, as_str(value.get("parentUuid")), value)
        else:
            others.append(value)
    for uuid in _cycle_members(records):
        yield Problem(records[uuid].key,
                      f"cycle: parentUuid chain through uuid {uuid} loops back to itself")
        del records[uuid]
    yield from _sessions(records, summaries, others)


def _malformed(value: Mapping[str, Any]) -> str | None:
    """Why a user/assistant record holds nothing to place (None when it is usable).

    Checked before the uuid tie, so a valid record always beats a malformed one that
    shares its uuid, whichever comes first in the file.
    """
    if value["type"] == "system":
        return None if value.get("content") is not None or isinstance(
            value.get("message"), Mapping) else "system record has no content"
    message = value.get("message")
    if not isinstance(message, Mapping):
        if "toolUseResult" in value:
            return None
        return f"{value['type']} record has no `message` object"
    content = message.get("content")
    if content is None and "toolUseResult" not in value:
        return f"{value['type']} record's message has no `content`"
    if isinstance(content, list) and not all(isinstance(b, Mapping | str) for b in content):
        return f"{value['type']} record's content holds a non-object block"
    return None


def _cycle_members(records: dict[str, _Record]) -> list[str]:
    """Uuids that lie on a parentUuid cycle (sorted by file position)."""
    state: dict[str, int] = {}  # 1 = on the current walk, 2 = done
    members: set[str] = set()
    for start in records:
        path: list[str] = []
        node: str | None = start
        while node is not None and node in records and state.get(node) is None:
            state[node] = 1
            path.append(node)
            node = records[node].parent
        if node is not None and state.get(node) == 1:
            members.update(path[path.index(node):])
        for visited in path:
            state[visited] = 2
    return sorted(members, key=lambda u: int(records[u].key.split()[-1]))


def _thread_key(record: _Record, records: dict[str, _Record]) -> tuple[str, str, str]:
    """(session id, chain kind, chain root): which session a record belongs to."""
    data = record.data
    session = as_str(data.get("sessionId")) or "unknown-session"
    if data.get("agentId") is not None:
        return session, "agent", str(data["agentId"])
    if not data.get("isSidechain"):
        return session, "main", ""
    root = record
    while root.parent in records and records[root.parent].data.get("isSidechain"):
        root = records[root.parent]
    return session, "sidechain", root.uuid


def _threaded(group: list[_Record]) -> list[_Record]:
    """Depth-first from the roots, children in file order: the conversation as it grew."""
    members = {r.uuid: r for r in group}
    for record in group:
        record.children = []
    roots = []
    for record in group:
        if record.parent in members:
            members[record.parent].children.append(record.uuid)
        else:
            roots.append(record)
    ordered: list[_Record] = []
    stack = list(reversed(roots))
    while stack:
        record = stack.pop()
        ordered.append(record)
        stack.extend(members[c] for c in reversed(record.children))
    return ordered


def _sessions(records: dict[str, _Record], summaries: list[Mapping[str, Any]],
              others: list[Mapping[str, Any]]) -> Iterator[Session]:
    groups: dict[tuple[str, str, str], list[_Record]] = {}
    for record in records.values():
        groups.setdefault(_thread_key(record, records), []).append(record)
    sessions: dict[tuple[str, str, str], Session] = {}
    for key, group in groups.items():
        ordered = _threaded(group)
        session_id, kind, root = key
        if kind != "main":
            session_id = f"{session_id}:{kind}:{root}"
        session = Session(session_id=session_id, format=FORMAT, agent_name="claude-code",
                          record=f"{ordered[0].key}..{ordered[-1].key}",
                          steps=[_step(i, r) for i, r in enumerate(ordered)])
        session.model = next((s.model for s in session.steps if s.model), None)
        session.agent_version = as_str(ordered[0].data.get("version"))
        session.extra["branch_points"] = sum(1 for r in group if len(r.children) > 1)
        if kind != "main":
            session.parent_session_id = key[0]
        sessions[key] = session
    _attach_summaries(sessions, groups, summaries)
    _link_subagents(sessions)
    if others and sessions:
        first = sessions[min(sessions)]
        first.extra["other_records"] = list(others)
        kinds = Counter(f"record:{value.get('type')}" for value in others)
        first.extra[UNRENDERED] = dict(sorted(kinds.items()))
    yield from (sessions[key] for key in sorted(sessions))


def _attach_summaries(sessions: dict[tuple[str, str, str], Session],
                      groups: dict[tuple[str, str, str], list[_Record]],
                      summaries: list[Mapping[str, Any]]) -> None:
    """A summary names its conversation by `leafUuid`; unmatched ones describe earlier context."""
    owner = {r.uuid: key for key, group in groups.items() for r in group}
    unmatched = []
    for item in summaries:
        key = owner.get(as_str(item.get("leafUuid")) or "")
        if key is not None:
            sessions[key].summary = as_str(item.get("summary"))
        else:
            unmatched.append(dict(item))
    mains = sorted(k for k in sessions if k[1] == "main")
    if unmatched and mains:
        session = sessions[mains[0]]
        session.extra["earlier_summaries"] = unmatched
        session.summary = session.summary or as_str(unmatched[-1].get("summary"))


def _link_subagents(sessions: dict[tuple[str, str, str], Session]) -> None:
    """Tie each side chain to the Task call whose prompt opened it."""
    for key, child in sessions.items():
        if key[1] == "main":
            continue
        parent = sessions.get((key[0], "main", ""))
        if parent is None:
            continue
        ref = SubagentRef(child.session_id)
        parent.subagents.append(ref)
        opening = next((s.message for s in child.steps if s.source == "user"), None)
        calls = {c.call_id: c for s in parent.steps for c in s.tool_calls
                 if c.arguments.get("prompt") == opening}
        for step in parent.steps:
            for result in step.observations:
                if result.source_call_id in calls:
                    result.subagent_refs.append(ref)


def _step(index: int, record: _Record) -> Step:
    data = record.data
    message = data.get("message") if isinstance(data.get("message"), Mapping) else {}
    content = message.get("content", data.get("content"))
    extra = leftovers(data, ("type", "message", "timestamp", "toolUseResult"))
    extra["type"] = data["type"]
    extra["message"] = leftovers(message, ("content", "model", "usage", "role"))
    if "toolUseResult" in data:
        extra["toolUseResult"] = data["toolUseResult"]
    step = Step(index, "user", timestamp=as_str(data.get("timestamp")), extra=extra)
    if data["type"] == "system":
        step.source = "system"
    elif data["type"] == "assistant":
        step.source = "agent"
        step.model = as_str(message.get("model"))
        usage = message.get("usage")
        if isinstance(usage, Mapping):
            step.metrics = Metrics(
                prompt_tokens=usage.get("input_tokens"), completion_tokens=usage.get("output_tokens"),
                cached_tokens=usage.get("cache_read_input_tokens"),
                extra=leftovers(usage, ("input_tokens", "output_tokens", "cache_read_input_tokens")))
    if content is None and "toolUseResult" in data:  # the result survives without content
        step.source = "environment"
        step.observations.append(ObservationResult(text_of(data["toolUseResult"])))
        return step
    if not isinstance(content, list):
        step.message = text_of(content)
        return step
    texts, thoughts, other_blocks = [], [], []
    for position, block in enumerate(content):
        kind = block.get("type") if isinstance(block, Mapping) else None
        if kind == "text":
            texts.append(str(block.get("text", "")))
        elif kind == "thinking":
            thoughts.append(str(block.get("thinking", "")))
        elif kind == "tool_use":
            raw_input = block.get("input")
            arguments = dict(raw_input) if isinstance(raw_input, Mapping) else {}
            step.tool_calls.append(ToolCall(
                as_str(block.get("id")) or f"{record.uuid}-{position}", str(block.get("name")),
                arguments, leftovers(block, ("type", "id", "name", "input")),
                raw_arguments=None if raw_input is None or isinstance(raw_input, Mapping)
                else as_str(raw_input)))
        elif kind == "tool_result":
            is_error = block.get("is_error")
            step.observations.append(ObservationResult(
                text_of(block.get("content")), as_str(block.get("tool_use_id")),
                is_error if isinstance(is_error, bool) else None,
                extra=leftovers(block, ("type", "content", "tool_use_id", "is_error"))))
        else:
            texts.append(text_of([block]))
            other_blocks.append(block)
    step.message = "\n\n".join(t for t in texts if t)
    step.reasoning = "\n\n".join(thoughts) if thoughts else None
    if other_blocks:
        extra["other_blocks"] = other_blocks
    if step.observations and step.source == "user":
        step.source = "environment"
    return step
