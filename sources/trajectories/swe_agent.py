"""SWE-agent `.traj`: `history` (what the model saw), `trajectory` (per-step records) and `info`.

Steps come from `history` when present, because it holds the system prompt, the task and
any demonstrations; the per-step records of `trajectory` (state, execution time) are
attached to the matching agent steps. Files holding only `trajectory` are read from it.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator, Mapping
from typing import Any

from longweave.schemas.trajectory import Metrics, ObservationResult, Session, Step, ToolCall
from longweave.sources.trajectories.chat import messages_to_steps
from longweave.sources.trajectories.common import Problem, as_str, leftovers

FORMAT = "swe-agent"
_STEP_KEYS = ("action", "observation", "response", "thought")


def detect(data: Any) -> bool:
    if not isinstance(data, Mapping):
        return False
    history, trajectory = data.get("history"), data.get("trajectory")
    if isinstance(trajectory, list) and trajectory and all(
            isinstance(item, Mapping) and "action" in item and "observation" in item
            for item in trajectory):
        return True
    return (isinstance(history, list) and bool(history) and "instance_id" not in data
            and all(isinstance(m, Mapping) and "role" in m for m in history))


def text_action(message: Mapping[str, Any], call_id: str) -> ToolCall | None:
    """A non-function-calling SWE-agent action: the command line in `action`."""
    action = message.get("action")
    if not isinstance(action, str) or not action.strip():
        return None
    return ToolCall(call_id, action.strip().split()[0], {"command": action})


def import_document(data: Mapping[str, Any], record: str = "*") -> Iterator[Session | Problem]:
    history = data.get("history") if isinstance(data.get("history"), list) else []
    trajectory = data.get("trajectory") if isinstance(data.get("trajectory"), list) else []
    extra = leftovers(data, ("history", "trajectory", "info"))
    if history:
        steps = messages_to_steps(history, text_action)
        agent_steps = [s for s in steps if s.source == "agent" and not s.extra.get("is_demo")]
        unmatched = _attach_trajectory(agent_steps, trajectory)
        if unmatched:
            extra["unmatched_trajectory_steps"] = unmatched
    else:
        steps = _steps_from_trajectory(trajectory)
    info = data.get("info") if isinstance(data.get("info"), Mapping) else {}
    stats = _model_stats(info.get("model_stats"))
    final = None
    if stats:
        final = Metrics(prompt_tokens=_int(stats.get("tokens_sent")),
                        completion_tokens=_int(stats.get("tokens_received")),
                        cost_usd=_float(stats.get("instance_cost")),
                        extra=leftovers(stats, ("tokens_sent", "tokens_received", "instance_cost")))
    if info:
        extra["info"] = leftovers(info, ("exit_status", "model_stats"))
    yield Session(session_id="", format=FORMAT, steps=steps, record=record,
                  agent_name="swe-agent", model=_model_name(data),
                  exit_status=as_str(info.get("exit_status")), final_metrics=final, extra=extra)


def _attach_trajectory(agent_steps: list[Step], trajectory: list[Any]) -> list[Any]:
    """Give each agent step its `trajectory` record, matched in order by action text.

    Real files sometimes hold a trajectory record the history lacks (a retried step);
    such records are returned so the caller keeps them in `extra`.
    """
    unmatched: list[Any] = []
    position = 0
    for step in agent_steps:
        action = step.extra.get("action")
        for candidate in range(position, len(trajectory)):
            item = trajectory[candidate]
            if isinstance(item, Mapping) and item.get("action") == action:
                unmatched.extend(trajectory[position:candidate])
                step.extra["trajectory_step"] = _step_record(item)
                position = candidate + 1
                break
    unmatched.extend(trajectory[position:])
    return unmatched


def _step_record(item: Any) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        return {"raw": item}
    record = leftovers(item, ())
    state = record.get("state")
    if isinstance(state, str):
        try:
            record["state"] = json.loads(state)
        except ValueError:
            pass
    return record


def _steps_from_trajectory(trajectory: list[Any]) -> list[Step]:
    """Older files without history: each record is an agent step plus its observation."""
    steps: list[Step] = []
    for index, item in enumerate(trajectory):
        if not isinstance(item, Mapping):
            continue
        call_id = f"call-{index}"
        call = text_action(item, call_id)
        extra = _step_record({k: v for k, v in item.items() if k not in _STEP_KEYS})
        extra["thought"] = item.get("thought")
        steps.append(Step(len(steps), "agent", as_str(item.get("response")) or "",
                          tool_calls=[call] if call else [], extra=extra))
        if call is not None:
            steps.append(Step(len(steps), "environment", observations=[
                ObservationResult(as_str(item.get("observation")) or "", call_id)]))
    return steps


def _model_stats(raw: Any) -> dict[str, Any]:
    """`model_stats` is a dict in newer files and a Python repr string in older ones."""
    if isinstance(raw, Mapping):
        return dict(raw)
    if isinstance(raw, str):
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            return {"raw": raw}
        return dict(value) if isinstance(value, Mapping) else {"raw": raw}
    return {}


def _model_name(data: Mapping[str, Any]) -> str | None:
    config = data.get("replay_config")
    if isinstance(config, str):
        try:
            config = json.loads(config)
        except ValueError:
            return None
    agent = config.get("agent") if isinstance(config, Mapping) else None
    model = agent.get("model") if isinstance(agent, Mapping) else None
    return as_str(model.get("name")) if isinstance(model, Mapping) else None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
