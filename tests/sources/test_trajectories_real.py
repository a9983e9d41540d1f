"""Real sessions (SWE-agent, OpenHands, Claude Code): counts survive, results link to calls."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from longweave.schemas.document import Document
from longweave.schemas.recipe_sources import TrajectoryOptions
from longweave.sources.registry import reader_for
from longweave.sources.trajectories import TrajectoryReader

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "trajectories"
OPTIONS = TrajectoryOptions()


def files(folder: str) -> list[Path]:
    found = sorted((DATA / folder).glob("*")) if (DATA / folder).is_dir() else []
    if not found:
        pytest.skip(f"real trajectories absent: {DATA / folder} (../shared/data not present)")
    return found


def read_docs(path: Path, options: TrajectoryOptions = OPTIONS) -> list[Document]:
    out = list(TrajectoryReader.read("agents", str(path), options))
    rejected = [o for o in out if not isinstance(o, Document)]
    assert not rejected, rejected
    return out


def sessions(path: Path):
    from longweave.sources.trajectories.detect import load_sessions

    return list(load_sessions(path.read_text(encoding="utf-8")))


def swe_counts(data: dict) -> tuple[int, int, int]:
    """Independent count: history messages, plus trajectory records the history lacks (an
    action and its result each), plus the last action's result when only `trajectory`
    holds it."""
    history = data["history"]
    calls = observations = 0
    pending = False
    for message in history:
        if message["role"] == "assistant":
            n = len(message.get("tool_calls") or [])
            pending = n == 0 and bool((message.get("action") or "").strip())
            calls += n or int(pending)
        elif message["role"] == "tool":
            observations += 1
        elif message["role"] == "user" and pending:
            observations += 1
            pending = False
    actions = Counter(m.get("action") for m in history if m["role"] == "assistant")
    steps = len(history)
    for record in data.get("trajectory") or []:
        if actions[record["action"]] > 0:
            actions[record["action"]] -= 1
            continue
        steps, calls, observations = steps + 2, calls + 1, observations + 1
    trajectory = data.get("trajectory") or []
    if pending and trajectory and trajectory[-1].get("observation"):
        steps, observations = steps + 1, observations + 1
    return steps, calls, observations


@pytest.mark.parametrize("name", ["swe-agent", "openhands", "claude-code"])
def test_registry_and_detection_from_content(name: str, tmp_path: Path) -> None:
    assert reader_for("trajectory") is TrajectoryReader
    source = files(name)[0]
    renamed = tmp_path / "no_hint.json"  # the file name carries no hint of the format
    renamed.write_bytes(source.read_bytes())
    [doc] = read_docs(renamed)[:1]
    assert doc.meta["format"] == name and doc.kind == "trajectory"


def test_swe_agent_round_trip_counts() -> None:
    for path in files("swe-agent"):
        raw = json.loads(path.read_text())
        [session] = sessions(path)
        assert (len(session.steps), session.tool_call_count(), session.observation_count()) \
            == swe_counts(raw), path.name
        [doc] = read_docs(path)
        assert doc.meta["steps"] == len(session.steps)
        assert doc.meta["exit_status"] == (raw.get("info") or {}).get("exit_status")
        assert doc.meta["final_patch"] == ((raw.get("info") or {}).get("submission") or None)


def test_swe_agent_tool_results_attach_to_their_call() -> None:
    path = next(p for p in files("swe-agent") if "function_calling_simple" in p.name)
    raw = json.loads(path.read_text())
    [session] = sessions(path)
    for index, message in enumerate(raw["history"]):
        if message["role"] != "tool":
            continue
        [result] = session.steps[index].observations
        assert result.source_call_id == message["tool_call_ids"][0]
        previous = next(m for m in reversed(raw["history"][:index]) if m.get("tool_calls"))
        assert previous["tool_calls"][0]["id"] == result.source_call_id
        assert result.content == message["content"]


def test_swe_agent_state_string_and_dict_both_parsed() -> None:
    kinds = set()
    for path in files("swe-agent"):
        raw = json.loads(path.read_text())
        if not raw.get("trajectory"):
            continue
        [session] = sessions(path)
        records = [s.extra["trajectory_step"] for s in session.steps if "trajectory_step" in s.extra]
        placed = [s for s in session.steps if s.source == "agent" and s.extra.get("from_trajectory")]
        assert len(records) + len(placed) == len(raw["trajectory"])
        assert len(placed) <= 1
        kinds.add(type(raw["trajectory"][0]["state"]).__name__)
        assert all(isinstance(r["state"], dict) for r in records)
    assert kinds == {"str", "dict"}


def test_swe_agent_old_text_actions_link_user_observations() -> None:
    path = next(p for p in files("swe-agent") if "forensics__flash" in p.name)
    raw = json.loads(path.read_text())
    [session] = sessions(path)
    agent = session.steps[2]
    env = session.steps[3]
    assert agent.tool_calls[0].arguments["command"] == raw["history"][2]["action"]
    assert env.source == "environment"
    assert env.observations[0].source_call_id == agent.tool_calls[0].call_id
    assert env.observations[0].content == raw["history"][3]["content"]


def test_openhands_round_trip_and_cause_links() -> None:
    non_tool = {"message", "system", "change_agent_state", "null"}
    for path in files("openhands"):
        raw = json.loads(path.read_text())
        [session] = sessions(path)
        calls = sum(1 for e in raw if "action" in e and (
            e["action"] not in non_tool or "tool_call_metadata" in e))
        observations = sum(1 for e in raw if "observation" in e)
        assert (len(session.steps), session.tool_call_count(), session.observation_count()) \
            == (len(raw), calls, observations), path.name
        by_id = {e["id"]: e for e in raw}
        for event, step in zip(raw, session.steps, strict=True):
            if "observation" in event:
                cause = by_id[event["cause"]]
                assert step.observations[0].source_call_id \
                    == cause["tool_call_metadata"]["tool_call_id"]


def test_openhands_call_arguments_come_from_the_completion() -> None:
    path = next(p for p in files("openhands") if p.name.endswith("basic.json"))
    raw = json.loads(path.read_text())
    [session] = sessions(path)
    call = session.steps[1].tool_calls[0]
    completion = raw[1]["tool_call_metadata"]["model_response"]["choices"][0]["message"]
    assert call.name == "str_replace_editor"
    assert call.arguments == json.loads(completion["tool_calls"][0]["function"]["arguments"])
    assert session.steps[1].metrics.completion_tokens == 1135
    assert session.model == "claude-3-5-sonnet-20241022"


def test_claude_code_round_trip_and_links() -> None:
    for path in files("claude-code"):
        records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        blocks = [b for r in records if isinstance(r.get("message"), dict)
                  and isinstance(r["message"].get("content"), list) for b in r["message"]["content"]]
        [session] = sessions(path)
        assert len(session.steps) == sum(r["type"] in ("user", "assistant") for r in records)
        assert session.tool_call_count() == sum(b["type"] == "tool_use" for b in blocks)
        assert session.observation_count() == sum(b["type"] == "tool_result" for b in blocks)
        calls = session.call_by_id()
        for step in session.steps:
            for result in step.observations:
                assert result.source_call_id in calls
                assert step.extra["toolUseResult"] == result.content
        summary = [r["summary"] for r in records if r["type"] == "summary"]
        assert session.summary == (summary[0] if summary else None)


def test_rendering_is_stable_and_spans_cover_turns() -> None:
    for folder in ("swe-agent", "openhands", "claude-code"):
        for path in files(folder)[:3]:
            first, second = read_docs(path), read_docs(path)
            assert [d.to_row() for d in first] == [d.to_row() for d in second]
            for doc in first:
                turns = doc.spans_with_prefix("turn:")
                assert turns[0].start == 0 and turns[-1].end == len(doc.text)
                assert all(a.end == b.start for a, b in zip(turns, turns[1:], strict=False))
                for span in doc.spans_with_prefix("loss:off"):
                    covered = [t for t in turns if span.start <= t.start < span.end]
                    assert covered and all(t.label in ("turn:system", "turn:environment")
                                           for t in covered)


def test_refer_back_distance_on_real_session() -> None:
    path = next(p for p in files("swe-agent") if "function_calling_simple" in p.name)
    [doc] = read_docs(path)
    token = doc.meta["refer_back_token"]
    assert doc.meta["longest_refer_back_chars"] > 0 and token
    env = [s for s in doc.spans_with_prefix("turn:environment") if token in doc.text[s.start:s.end]]
    agent_after = [s for s in doc.spans_with_prefix("turn:agent")
                   if s.start >= env[0].end and token in doc.text[s.start:s.end]]
    assert agent_after[-1].start - env[0].end == doc.meta["longest_refer_back_chars"] or \
        doc.meta["longest_refer_back_chars"] >= agent_after[-1].start - env[-1].end
