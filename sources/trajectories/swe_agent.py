"""SWE-agent `.traj`: `history` (what the model saw), `trajectory` (per-step records) and `info`.

Steps come from `history` when present, because it holds the system prompt, the task and
any demonstrations; the per-step records of `trajectory` (state, execution time) are
attached to the matching agent steps. A `trajectory` record the history lacks (a retried
step, the final `submit` whose observation is the patch) is placed as steps of its own
where it happened, marked `from_trajectory`. Files holding only `trajectory` are read
from it. `info.submission` is the final patch: it goes to the session's outcome.
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
    return ToolCall(call_id, action.strip().split()[0], {"command": action}, implicit=True)


def import_document(data: Mapping[str, Any], record: str = "*") -> Iterator[Session | Problem]:
    history = data.get("history") if isinstance(data.get("history"), list) else []
    trajectory = data.get("trajectory") if isinstance(data.get("trajectory"), list) else []
    extra = leftovers(data, ("history", "trajectory", "info"))
    if history:
        steps = messages_to_steps(history, text_action)
        agent_steps = [s for s in steps if s.source == "agent" and not s.extra.get("is_demo")]
        steps = _place_unmatched(steps, _attach_trajectory(agent_steps, trajectory))
        steps = _place_missing_observations(steps)
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
        extra["info"] = leftovers(info, ("exit_status", "model_stats", "submission"))
    config = _replay_config(data)
    yield Session(session_id="", format=FORMAT, steps=steps, record=record,
                  agent_name="swe-agent", model=_model_name(config),
                  exit_status=as_str(info.get("exit_status")), final_metrics=final, extra=extra,
                  outcome=_outcome(info, config))


def _outcome(info: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    """The final patch, and the task as the replay config states it (SWE-bench runs)."""
    problem = config.get("problem_statement")
    problem = problem if isinstance(problem, Mapping) else {}
    env = config.get("env") if isinstance(config.get("env"), Mapping) else {}
    repo = env.get("repo") if isinstance(env.get("repo"), Mapping) else {}
    found = {"final_patch": as_str(info.get("submission")),
             "instance_id": as_str(problem.get("id")),
             "problem_statement": as_str(problem.get("text")),
             "base_commit": as_str(repo.get("base_commit"))}
    return {key: value for key, value in found.items() if value}


def _attach_trajectory(agent_steps: list[Step], trajectory: list[Any]
                       ) -> list[tuple[int | None, Any]]:
    """Give each agent step its `trajectory` record, matched in order by action text.

    Returns the records the history lacks, each with the step id it follows (None: before
    the first matched step), so the caller places them where they happened.
    """
    unmatched: list[tuple[int | None, Any]] = []
    position = 0
    previous: int | None = None
    for step in agent_steps:
        action = step.extra.get("action")
        for candidate in range(position, len(trajectory)):
            item = trajectory[candidate]
            if isinstance(item, Mapping) and item.get("action") == action:
                unmatched.extend((previous, skipped) for skipped in trajectory[position:candidate])
                step.extra["trajectory_step"] = _step_record(item)
                position = candidate + 1
                previous = step.step_id
                break
    unmatched.extend((previous, skipped) for skipped in trajectory[position:])
    return unmatched


def _place_unmatched(steps: list[Step], unmatched: list[tuple[int | None, Any]]) -> list[Step]:
    """Insert unmatched trajectory records as agent + environment steps after their step.

    A record lands after the observation answering the step it follows, so the turn order
    stays action, result, action, result.
    """
    if not unmatched:
        return steps
    after: dict[int | None, list[Any]] = {}
    for step_id, item in unmatched:
        after.setdefault(step_id, []).append(item)
    placed: list[Step] = []

    def flush(key: int | None) -> None:
        for item in after.pop(key, []):
            placed.extend(_record_steps(item, f"trajectory-{len(placed)}"))

    first = _first_agent(steps)
    waiting: list[int] = []  # the agent step whose records go before the next agent step
    for step in steps:
        if step.source == "agent" and not step.extra.get("is_demo"):
            while waiting:
                flush(waiting.pop())
            if step.step_id == first:
                flush(None)
        placed.append(step)
        if step.source == "agent" and step.step_id in after:
            waiting.append(step.step_id)
    for key in list(after):
        flush(key)
    return _renumber(placed)


def _first_agent(steps: list[Step]) -> int | None:
    return next((s.step_id for s in steps if s.source == "agent" and not s.extra.get("is_demo")),
                None)


def _place_missing_observations(steps: list[Step]) -> list[Step]:
    """An implicit call left unanswered by the history gets its `trajectory` observation.

    The history of a text-action run stops at the model's last reply (typically `submit`),
    so the observation of that last action lives only in the `trajectory` record.
    """
    answered = {r.source_call_id for step in steps for r in step.observations}
    placed: list[Step] = []
    for step in steps:
        placed.append(step)
        record = step.extra.get("trajectory_step")
        if not isinstance(record, Mapping) or not step.tool_calls:
            continue
        call = step.tool_calls[0]
        observation = as_str(record.get("observation"))
        if call.call_id in answered or not observation:
            continue
        placed.append(Step(0, "environment", observations=[ObservationResult(
            observation, call.call_id)], extra={"from_trajectory": True}))
    return _renumber(placed) if len(placed) != len(steps) else steps


def _renumber(steps: list[Step]) -> list[Step]:
    for index, step in enumerate(steps):
        step.step_id = index
    return steps


def _record_steps(item: Any, call_id: str) -> list[Step]:
    """One `trajectory` record as an agent step (reply, implicit call) and its result."""
    if not isinstance(item, Mapping):
        return [Step(0, "environment", as_str(item) or "", extra={"malformed_message": True})]
    call = text_action(item, call_id)
    extra = _step_record({k: v for k, v in item.items() if k not in _STEP_KEYS})
    extra["from_trajectory"] = True
    response = as_str(item.get("response")) or ""
    thought = as_str(item.get("thought"))
    steps = [Step(0, "agent", response, tool_calls=[call] if call else [],
                  reasoning=thought if thought and thought.strip() not in response else None,
                  extra=extra)]
    observation = as_str(item.get("observation"))
    if call is not None and observation is not None:
        steps.append(Step(0, "environment", observations=[ObservationResult(observation,
                                                                            call_id)],
                          extra={"from_trajectory": True}))
    return steps


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
        steps.extend(_record_steps(item, f"call-{index}"))
    return _renumber(steps)


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


def _replay_config(data: Mapping[str, Any]) -> Mapping[str, Any]:
    config = data.get("replay_config")
    if isinstance(config, str):
        try:
            config = json.loads(config)
        except ValueError:
            return {}
    return config if isinstance(config, Mapping) else {}


def _model_name(config: Mapping[str, Any]) -> str | None:
    agent = config.get("agent")
    model = agent.get("model") if isinstance(agent, Mapping) else None
    return as_str(model.get("name")) if isinstance(model, Mapping) else None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
