"""mini-SWE-agent `.traj.json`: `messages` (chat), `info`, `trajectory_format`.

v1 runs spell the action as the one ```bash block of the assistant reply and answer it in
the next user message; v2 (`mini-swe-agent-1.1`) may use native tool calls instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from longweave.schemas.trajectory import Metrics, Session, ToolCall
from longweave.sources.trajectories.chat import messages_to_steps
from longweave.sources.trajectories.common import Problem, as_str, leftovers, text_of

FORMAT = "mini-swe-agent"
_BASH_BLOCK = re.compile(r"```(?:bash|sh)\s*\n(.*?)\n?```", re.S)


def detect(data: Any) -> bool:
    if not isinstance(data, Mapping) or not isinstance(data.get("messages"), list):
        return False
    info = data.get("info")
    return str(data.get("trajectory_format") or "").startswith("mini-swe-agent") or (
        isinstance(info, Mapping) and "mini_version" in info)


def bash_action(message: Mapping[str, Any], call_id: str) -> ToolCall | None:
    match = _BASH_BLOCK.search(text_of(message.get("content")))
    return ToolCall(call_id, "bash", {"command": match.group(1)}, implicit=True) if match else None


def import_document(data: Mapping[str, Any], record: str = "*") -> Iterator[Session | Problem]:
    info = data.get("info") if isinstance(data.get("info"), Mapping) else {}
    stats = info.get("model_stats") if isinstance(info.get("model_stats"), Mapping) else {}
    config = info.get("config") if isinstance(info.get("config"), Mapping) else {}
    model_config = config.get("model") if isinstance(config.get("model"), Mapping) else {}
    cost = stats.get("instance_cost")
    final = Metrics(cost_usd=float(cost) if isinstance(cost, int | float) else None,
                    extra=leftovers(stats, ("instance_cost",))) if stats else None
    extra = leftovers(data, ("messages", "info"))
    extra["info"] = leftovers(info, ("exit_status", "model_stats", "mini_version", "submission"))
    steps = messages_to_steps(data["messages"], bash_action)
    agent = config.get("agent") if isinstance(config.get("agent"), Mapping) else {}
    outcome = {"instance_id": as_str(data.get("instance_id")),
               "final_patch": as_str(info.get("submission")),
               "problem_statement": task_from_template(
                   next((s.message for s in steps if s.source == "user"), ""),
                   as_str(agent.get("instance_template")))}
    yield Session(
        session_id=as_str(data.get("instance_id")) or "", format=FORMAT, record=record,
        steps=steps, agent_name="mini-swe-agent", agent_version=as_str(info.get("mini_version")),
        model=as_str(model_config.get("model_name")), exit_status=as_str(info.get("exit_status")),
        final_metrics=final, extra=extra,
        outcome={key: value for key, value in outcome.items() if value})


def task_from_template(message: str, template: str | None) -> str | None:
    """The `{{task}}` a run's instance template was filled with, read back from the message.

    mini-SWE-agent stores the task only inside the rendered first user message; the text
    before `{{task}}` and the literal text after it (up to the next template tag) bound it.
    """
    marker = next((m for m in ("{{task}}", "{{ task }}") if template and m in template), None)
    if template is None or marker is None:
        return None
    prefix, rest = template.split(marker, 1)
    cut = min((i for i in (rest.find("{{"), rest.find("{%")) if i >= 0), default=len(rest))
    suffix = rest[:cut]
    prefix = prefix.strip()
    start = message.find(prefix) if prefix else 0
    if start < 0:
        return None
    start += len(prefix)
    end = message.find(suffix.strip(), start) if suffix.strip() else len(message)
    if end < 0:
        return None
    return message[start:end].strip() or None
