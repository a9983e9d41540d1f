"""One normalised agent session, close to ATIF's step model, that every importer targets.

Why one schema: renderers, statistics and hygiene are written once against it, and each
importer only maps its format onto it. Nothing of the input is silently dropped: a field
the schema has no place for goes into the `extra` dict of the object it came from.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

StepSource = Literal["system", "user", "agent", "environment"]
STEP_SOURCES: tuple[str, ...] = ("system", "user", "agent", "environment")


@dataclass
class ToolCall:
    """A tool invocation by the agent; `arguments` is always a JSON object (never a string).

    `raw_arguments` keeps the arguments exactly as the model wrote them (a JSON string,
    or text that does not parse) so rendering shows them verbatim. `implicit` marks a call
    read out of the message text (a fenced command): the text already shows it, so the
    renderer must not print it a second time.
    """

    call_id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    raw_arguments: str | None = None
    implicit: bool = False


@dataclass
class SubagentRef:
    """A pointer to another session (a sub-agent run or side chain) this one delegated to."""

    session_id: str
    trajectory_path: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class ObservationResult:
    """What the environment answered; `source_call_id` names the `ToolCall` it answers."""

    content: str
    source_call_id: str | None = None
    is_error: bool | None = None
    subagent_refs: list[SubagentRef] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    exit_code: int | None = None  # the command's exit status, when the format records one


@dataclass
class Metrics:
    """Token and cost accounting of one LLM call (per step) or of the whole session."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int | None = None
    cost_usd: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return not self.extra and all(
            v is None for v in (self.prompt_tokens, self.completion_tokens,
                                self.cached_tokens, self.cost_usd))


@dataclass
class Step:
    """One turn of the session.

    Observations may sit on the agent step that made the calls (ATIF style) or on a
    separate `environment` step (event-stream formats); either way each result names
    its call id, so consumers need not care which. `noise` names a runtime event (agent
    state change, empty observation, recall query) that is kept for the counts but is
    never rendered as a turn.
    """

    step_id: int
    source: StepSource
    message: str = ""
    reasoning: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    observations: list[ObservationResult] = field(default_factory=list)
    timestamp: str | None = None
    model: str | None = None
    metrics: Metrics | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    noise: str | None = None

    def __post_init__(self) -> None:
        if self.source not in STEP_SOURCES:
            raise ValueError(f"step {self.step_id}: unknown source {self.source!r}")


@dataclass
class Session:
    """A whole agent run as read from one record of one file.

    `session_id` is the format's own id when it has one; `session_id_origin` says where
    it came from (`format` or `content-hash`). `record` names where in the file it was
    found, so quarantine and meta can point back to the input. `outcome` holds the task
    and its result under the names `TrajectoryMeta` declares (instance_id,
    problem_statement, final_patch, resolved, ...): the reader copies it into meta.
    """

    session_id: str
    format: str
    steps: list[Step] = field(default_factory=list)
    agent_name: str | None = None
    agent_version: str | None = None
    model: str | None = None
    exit_status: str | None = None
    summary: str | None = None
    parent_session_id: str | None = None
    subagents: list[SubagentRef] = field(default_factory=list)
    final_metrics: Metrics | None = None
    truncated: str | None = None
    record: str = "*"
    session_id_origin: str = "format"
    extra: dict[str, Any] = field(default_factory=dict)
    outcome: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def content_hash(self) -> str:
        """Hash of what the session *says* (steps), independent of id, file and record.

        Two exports of the same session hash alike even when their wrappers differ.
        """
        payload = json.dumps(self.steps, sort_keys=True, ensure_ascii=False, default=_plain)
        return hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()

    def tool_call_count(self) -> int:
        return sum(len(step.tool_calls) for step in self.steps)

    def observation_count(self) -> int:
        return sum(len(step.observations) for step in self.steps)

    def call_by_id(self) -> dict[str, ToolCall]:
        """Tool calls by id; on a repeated id (replayed runs) the later call wins."""
        return {call.call_id: call for step in self.steps for call in step.tool_calls}


def _plain(value: Any) -> Any:
    """JSON fallback: dataclasses by their fields (cheaper than a deep `asdict` copy)."""
    return vars(value) if hasattr(value, "__dataclass_fields__") else str(value)
