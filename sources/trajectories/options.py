"""Options of the `trajectory` source kind (validated with the recipe)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

TurnCategory = Literal["system", "user", "agent", "environment", "demo", "summary"]


class TrajectoryOptions(BaseModel):
    """How sessions are selected, cleaned and rendered into documents."""

    model_config = ConfigDict(extra="forbid")

    suffixes: list[str] = Field(default_factory=lambda: [".json", ".jsonl", ".traj"])
    formats: list[str] | None = Field(
        default=None, description="read only these formats (see longweave.sources.trajectories.FORMATS)")
    chat_template: str | None = Field(
        default=None, description="Jinja chat template applied to one message at a time; "
                                  "default: the built-in plain layout")
    loss_off: list[TurnCategory] = Field(
        default_factory=lambda: ["system", "environment", "demo", "summary"],
        description="turns excluded from the loss (emitted as `loss:off` spans)")
    include_demos: bool = True
    include_reasoning: bool = True
    include_summary: bool = True
    include_sidechains: bool = Field(
        default=True, description="emit side chains / sub-agent runs as documents of their own")
    max_observation_chars: int | None = Field(default=20_000, ge=200)
    redact_secrets: bool = True
    min_agent_steps: int = Field(default=1, ge=0)
