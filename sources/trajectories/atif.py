"""ATIF v1.x (Harbor / terminal-bench): already our step model, so mostly a field mapping."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
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
    Problem,
    as_str,
    leftovers,
    parse_arguments,
    text_of,
)

FORMAT = "atif"
_SOURCES = {"system": "system", "user": "user", "agent": "agent", "environment": "environment"}


def detect(data: Any) -> bool:
    if not isinstance(data, Mapping) or not isinstance(data.get("steps"), list):
        return False
    version = str(data.get("schema_version") or "")
    return version.upper().startswith("ATIF") or (
        "session_id" in data and isinstance(data.get("agent"), Mapping))


def import_document(data: Mapping[str, Any], record: str = "*") -> Iterator[Session | Problem]:
    session_id = as_str(data.get("session_id"))
    if not session_id:
        yield Problem(record, "malformed: ATIF trajectory without session_id")
        return
    agent = data.get("agent") if isinstance(data.get("agent"), Mapping) else {}
    steps: list[Step] = []
    for index, raw in enumerate(data["steps"]):
        if not isinstance(raw, Mapping):
            yield Problem(f"{record} steps[{index}]",
                          f"malformed: step is {type(raw).__name__}, not an object")
            continue
        steps.append(_step(raw, index))
    final = data.get("final_metrics")
    final_metrics = _metrics(final, total_keys=True) if isinstance(final, Mapping) else None
    truncated = None
    declared = final.get("total_steps") if isinstance(final, Mapping) else None
    if isinstance(declared, int) and declared > len(data["steps"]):
        truncated = f"final_metrics.total_steps={declared} but {len(data['steps'])} steps present"
    extra = leftovers(data, ("schema_version", "session_id", "agent", "steps", "final_metrics"))
    extra["schema_version"] = data.get("schema_version")
    agent_extra = leftovers(agent, ("name", "version", "model_name"))
    if agent_extra:
        extra["agent_extra"] = agent_extra
    subagents = [ref for step in steps for obs in step.observations for ref in obs.subagent_refs]
    yield Session(
        session_id=session_id, format=FORMAT, steps=steps, record=record,
        agent_name=as_str(agent.get("name")), agent_version=as_str(agent.get("version")),
        model=as_str(agent.get("model_name")), final_metrics=final_metrics,
        exit_status=as_str((data.get("extra") or {}).get("exit_status"))
        if isinstance(data.get("extra"), Mapping) else None,
        subagents=subagents, truncated=truncated, extra=extra,
    )


def _step(raw: Mapping[str, Any], index: int) -> Step:
    source = _SOURCES.get(str(raw.get("source")), "agent")
    calls = []
    for position, call in enumerate(raw.get("tool_calls") or []):
        if not isinstance(call, Mapping):
            calls.append(ToolCall(f"step{index}-{position}", "unknown", {}, {"raw_call": call},
                                  raw_arguments=as_str(call)))
            continue
        arguments, verbatim = parse_arguments(call.get("arguments"))
        extra = leftovers(call, ("tool_call_id", "function_name", "arguments"))
        calls.append(ToolCall(as_str(call.get("tool_call_id")) or f"step{index}-{position}",
                              str(call.get("function_name") or "unknown"), arguments,
                              extra, raw_arguments=verbatim))
    observation = raw.get("observation") if isinstance(raw.get("observation"), Mapping) else {}
    results = [_result(item) for item in observation.get("results") or []
               if isinstance(item, Mapping)]
    extra = leftovers(raw, ("step_id", "source", "message", "reasoning_content", "tool_calls",
                            "observation", "timestamp", "model_name", "metrics"))
    if raw.get("source") not in _SOURCES:
        extra["source"] = raw.get("source")
    if raw.get("step_id") is not None:
        extra["step_id"] = raw.get("step_id")
    if not isinstance(raw.get("message"), str | None):
        extra["message_parts"] = raw.get("message")
    metrics = raw.get("metrics")
    return Step(index, source, text_of(raw.get("message")),
                reasoning=as_str(raw.get("reasoning_content")), tool_calls=calls,
                observations=results, timestamp=as_str(raw.get("timestamp")),
                model=as_str(raw.get("model_name")),
                metrics=_metrics(metrics) if isinstance(metrics, Mapping) else None, extra=extra)


def _result(item: Mapping[str, Any]) -> ObservationResult:
    refs = [SubagentRef(str(ref.get("session_id")), as_str(ref.get("trajectory_path")),
                        leftovers(ref, ("session_id", "trajectory_path")))
            for ref in item.get("subagent_trajectory_ref") or [] if isinstance(ref, Mapping)]
    extra = leftovers(item, ("source_call_id", "content", "subagent_trajectory_ref", "is_error"))
    return ObservationResult(text_of(item.get("content")), as_str(item.get("source_call_id")),
                             item.get("is_error") if isinstance(item.get("is_error"), bool)
                             else None, refs, extra)


def _metrics(raw: Mapping[str, Any], total_keys: bool = False) -> Metrics:
    prefix = "total_" if total_keys else ""
    names = ("prompt_tokens", "completion_tokens", "cached_tokens", "cost_usd")
    values = {name: raw.get(prefix + name) for name in names}
    extra = leftovers(raw, [prefix + name for name in names])
    return Metrics(
        prompt_tokens=values["prompt_tokens"] if isinstance(values["prompt_tokens"], int) else None,
        completion_tokens=values["completion_tokens"]
        if isinstance(values["completion_tokens"], int) else None,
        cached_tokens=values["cached_tokens"] if isinstance(values["cached_tokens"], int) else None,
        cost_usd=float(values["cost_usd"]) if isinstance(values["cost_usd"], int | float) else None,
        extra=extra)
