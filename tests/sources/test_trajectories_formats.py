"""Importers built from the public specs (ATIF, mini-SWE-agent, OpenAI chat, OpenHands
output.jsonl, Claude Code side chains): counts, links and format detection."""

from __future__ import annotations

import json
from pathlib import Path

from longweave.schemas.document import Document
from longweave.schemas.recipe_sources import TrajectoryOptions
from longweave.sources.trajectories import TrajectoryReader
from longweave.sources.trajectories.detect import load_sessions

OPTIONS = TrajectoryOptions()


def write(tmp_path: Path, name: str, data: object, jsonl: bool = False) -> Path:
    path = tmp_path / name
    if jsonl:
        path.write_text("\n".join(json.dumps(r) for r in data) + "\n")  # type: ignore[union-attr]
    else:
        path.write_text(json.dumps(data, indent=1))
    return path


def read(path: Path, options: TrajectoryOptions = OPTIONS) -> list:
    return list(TrajectoryReader.read("agents", str(path), options))


ATIF = {
    "schema_version": "ATIF-v1.4",
    "session_id": "atif-run-7",
    "agent": {"name": "terminus", "version": "2.0", "model_name": "gpt-x", "extra": {"t": 1}},
    "steps": [
        {"step_id": 1, "timestamp": "2025-10-01T10:00:00Z", "source": "system",
         "message": "You are a shell agent."},
        {"step_id": 2, "timestamp": "2025-10-01T10:00:01Z", "source": "user",
         "message": "Find the config file."},
        {"step_id": 3, "timestamp": "2025-10-01T10:00:05Z", "source": "agent",
         "message": "Listing files.", "reasoning_content": "Start with ls.",
         "tool_calls": [
             {"tool_call_id": "c1", "function_name": "bash", "arguments": {"cmd": "ls /etc"}},
             {"tool_call_id": "c2", "function_name": "bash", "arguments": {"cmd": "env"}}],
         "observation": {"results": [
             {"source_call_id": "c1", "content": "app_settings_v2.yaml\nhosts"},
             {"source_call_id": "c2", "content": "API=sk-proj-AbCdEfGhIjKlMnOpQrStUvWx"}]},
         "metrics": {"prompt_tokens": 120, "completion_tokens": 30, "cost_usd": 0.01}},
        {"step_id": 4, "timestamp": "2025-10-01T10:01:05Z", "source": "agent",
         "message": "Delegating.", "tool_calls": [
             {"tool_call_id": "c3", "function_name": "subagent", "arguments": {"task": "read"}}],
         "observation": {"results": [{"source_call_id": "c3", "content": "done",
                                      "subagent_trajectory_ref": [{"session_id": "atif-sub-1"}]}]}},
        {"step_id": 5, "timestamp": "2025-10-01T10:02:00Z", "source": "agent",
         "message": "The config is /etc/app_settings_v2.yaml."},
    ],
    "final_metrics": {"total_prompt_tokens": 500, "total_cost_usd": 0.05, "total_steps": 5},
}


def test_atif_round_trip(tmp_path: Path) -> None:
    [session] = load_sessions(json.dumps(ATIF))
    assert session.format == "atif" and session.session_id == "atif-run-7"
    assert (len(session.steps), session.tool_call_count(), session.observation_count()) == (
        len(ATIF["steps"]),
        sum(len(s.get("tool_calls", [])) for s in ATIF["steps"]),
        sum(len(s.get("observation", {}).get("results", [])) for s in ATIF["steps"]))
    step = session.steps[2]
    assert [r.source_call_id for r in step.observations] == [c.call_id for c in step.tool_calls]
    assert step.reasoning == "Start with ls." and step.metrics.prompt_tokens == 120
    assert session.final_metrics.prompt_tokens == 500
    assert session.extra["agent_extra"] == {"extra": {"t": 1}}
    assert [r.session_id for r in session.subagents] == ["atif-sub-1"]
    [doc] = read(write(tmp_path, "run.json", ATIF))
    assert doc.meta["secrets_redacted"] == {"openai_key": 1}
    assert "AbCdEfGhIj" not in doc.text
    assert doc.meta["wall_clock_seconds"] == 120.0
    assert doc.meta["tool_calls_by_tool"] == {"bash": 2, "subagent": 1}
    assert doc.meta["subagents"] == ["atif-sub-1"]
    # the final answer reuses the file name the first result introduced
    assert doc.meta["refer_back_token"] in ("app_settings_v2.yaml", "etc/app_settings_v2.yaml")
    assert doc.meta["longest_refer_back_chars"] > 0


def test_atif_declared_steps_missing_is_truncated(tmp_path: Path) -> None:
    cut = dict(ATIF, steps=ATIF["steps"][:3])
    [rejected] = read(write(tmp_path, "cut.json", cut))
    assert not isinstance(rejected, Document) and rejected.error.startswith("truncated:")


MINI_V1 = {
    "info": {"exit_status": "Submitted", "submission": "diff --git a/x b/x",
             "model_stats": {"instance_cost": 0.12, "api_calls": 3}, "mini_version": "1.9.0",
             "config": {"model": {"model_name": "claude-sonnet-4"}}},
    "messages": [
        {"role": "system", "content": "You are a helpful assistant that can run bash."},
        {"role": "user", "content": "Please solve this issue: tests fail in utils/calc.py"},
        {"role": "assistant", "content": "THOUGHT: look first.\n\n```bash\ncat utils/calc.py\n```"},
        {"role": "user", "content": "<returncode>0</returncode>\n<output>def add(a,b): return a-b"
                                    "</output>"},
        {"role": "assistant", "content": "THOUGHT: fix it.\n\n```bash\nsed -i 's/a-b/a+b/' "
                                         "utils/calc.py\n```"},
        {"role": "user", "content": "<returncode>0</returncode>\n<output></output>"},
        {"role": "assistant", "content": "Done.\n\n```bash\necho COMPLETE_TASK_AND_SUBMIT\n```"},
        {"role": "user", "content": "<returncode>0</returncode>"},
    ],
    "trajectory_format": "mini-swe-agent-1",
}


def test_mini_swe_agent_text_actions(tmp_path: Path) -> None:
    [session] = load_sessions(json.dumps(MINI_V1))
    assert session.format == "mini-swe-agent" and session.model == "claude-sonnet-4"
    assistants = [m for m in MINI_V1["messages"] if m["role"] == "assistant"]
    assert (len(session.steps), session.tool_call_count(), session.observation_count()) == (
        len(MINI_V1["messages"]), len(assistants), len(assistants))
    calls = session.call_by_id()
    for step in session.steps[3::2]:
        assert step.source == "environment"
        assert calls[step.observations[0].source_call_id].name == "bash"
    assert session.steps[2].tool_calls[0].arguments == {"command": "cat utils/calc.py"}
    [doc] = read(write(tmp_path, "i.traj.json", MINI_V1))
    assert doc.meta["exit_status"] == "Submitted"
    assert doc.meta["final_metrics"]["cost_usd"] == 0.12


def test_mini_swe_agent_v2_tool_calls() -> None:
    data = {"info": {"mini_version": "2.0.0", "exit_status": "Submitted"},
            "trajectory_format": "mini-swe-agent-1.1",
            "messages": [
                {"role": "user", "content": "task", "extra": {"timestamp": 1.0}},
                {"role": "assistant", "content": None, "tool_calls": [
                    {"id": "t1", "type": "function",
                     "function": {"name": "bash", "arguments": "{\"command\": \"ls\"}"}}]},
                {"role": "tool", "tool_call_id": "t1", "content": "a.py"}]}
    [session] = load_sessions(json.dumps(data))
    assert session.steps[1].tool_calls[0].arguments == {"command": "ls"}
    assert session.steps[2].observations[0].source_call_id == "t1"
    assert session.steps[0].extra["extra"] == {"timestamp": 1.0}


CHAT = [
    {"role": "system", "content": "sys"},
    {"role": "user", "content": "weather in Paris and Rome?"},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "a", "type": "function", "function": {"name": "weather",
                                                     "arguments": "{\"city\": \"Paris\"}"}},
        {"id": "b", "type": "function", "function": {"name": "weather",
                                                     "arguments": "not json"}}]},
    {"role": "tool", "tool_call_id": "b", "content": "Rome 25C"},
    {"role": "tool", "tool_call_id": "a", "content": "Paris 20C"},
    {"role": "assistant", "content": "Paris 20C, Rome 25C."},
]


def test_openai_chat_json_and_jsonl(tmp_path: Path) -> None:
    for path in (write(tmp_path, "c.json", CHAT), write(tmp_path, "c.jsonl", CHAT, jsonl=True),
                 write(tmp_path, "w.json", {"id": "conv-1", "messages": CHAT})):
        [session] = load_sessions(path.read_text())
        assert session.format == "openai-chat"
        assert (len(session.steps), session.tool_call_count(), session.observation_count()) \
            == (6, 2, 2)
        calls = session.call_by_id()
        assert calls["a"].arguments == {"city": "Paris"}
        assert calls["b"].extra == {"type": "function"} and calls["b"].arguments == {}
        assert calls["b"].raw_arguments == "not json"  # kept verbatim for the text
        assert [s.observations[0].source_call_id for s in session.steps[3:5]] == ["b", "a"]
    lines = write(tmp_path, "many.jsonl", [{"id": f"conv-{i}", "messages": CHAT[:2] + [
        {"role": "assistant", "content": f"answer {i}"}]} for i in range(3)], jsonl=True)
    docs = read(lines)
    assert [d.meta["session_id"] for d in docs] == ["conv-0", "conv-1", "conv-2"]
    assert [d.meta["record"] for d in docs] == ["line 1", "line 2", "line 3"]


def test_openhands_output_jsonl_new_and_old_schema(tmp_path: Path) -> None:
    events = [
        {"id": 0, "source": "user", "action": "message", "args": {"content": "fix bug"},
         "timestamp": "2024-05-01T00:00:00"},
        {"id": 1, "source": "agent", "action": "run", "args": {"command": "pytest -x",
                                                               "thought": "run tests"},
         "timestamp": "2024-05-01T00:00:10"},
        {"id": 2, "source": "agent", "observation": "run", "cause": 1, "content": "1 failed",
         "extras": {"exit_code": 1}, "timestamp": "2024-05-01T00:00:20"},
    ]
    old_pairs = [[{"action": "run", "args": {"command": "ls"}, "source": "agent"},
                  {"observation": "run", "content": "setup.py", "extras": {}}],
                 [{"action": "finish", "args": {}, "source": "agent"},
                  {"observation": "null", "content": ""}]]
    records = [{"instance_id": "repo__1", "history": events, "metadata": {
                   "agent_class": "CodeActAgent", "llm_config": {"model": "gpt-4o"}}},
               {"instance_id": "repo__2", "instruction": "list", "history": old_pairs}]
    docs = read(write(tmp_path, "output.jsonl", records, jsonl=True))
    assert [d.meta["session_id"] for d in docs] == ["repo__1", "repo__2"]
    assert docs[0].meta["agent"] == "CodeActAgent" and docs[0].meta["model"] == "gpt-4o"
    assert (docs[0].meta["steps"], docs[0].meta["tool_calls"], docs[0].meta["observations"]) \
        == (3, 1, 1)
    assert docs[0].meta["wall_clock_seconds"] == 20.0
    # the finish action's empty `null` observation is runtime noise: a step, not a result
    assert (docs[1].meta["steps"], docs[1].meta["tool_calls"], docs[1].meta["observations"]) \
        == (4, 2, 1)
    assert docs[1].meta["events_not_rendered"] == {"noise:null_observation": 1}
    assert docs[1].meta["orphan_observations"] == 0 and docs[1].meta["exit_status"] == "finished"


def cc(uuid: str, parent: str | None, kind: str, content, **more) -> dict:
    return {"type": kind, "uuid": uuid, "parentUuid": parent, "sessionId": "s1",
            "timestamp": "2025-01-01T00:00:00Z", "isSidechain": False,
            "message": {"role": "user" if kind == "user" else "assistant", "content": content},
            **more}


def test_claude_code_threads_by_parent_and_splits_sidechains(tmp_path: Path) -> None:
    records = [
        cc("u1", None, "user", "delegate a search"),
        cc("a2", "u1", "assistant", [
            {"type": "thinking", "thinking": "use Task"},
            {"type": "tool_use", "id": "task1", "name": "Task",
             "input": {"prompt": "search for TODO", "description": "d"}}]),
        cc("s1", "a2", "user", "search for TODO", isSidechain=True),
        cc("s2", "s1", "assistant", "found 3", isSidechain=True),
        # written out of order: threading by parentUuid puts it back after a2
        cc("u4", "a2", "user", [{"type": "tool_result", "tool_use_id": "task1",
                                 "content": [{"type": "text", "text": "3 TODOs"}]}],
           toolUseResult={"totalDurationMs": 5}),
        cc("a5", "u4", "assistant", "There are 3 TODOs."),
    ]
    records[4], records[5] = records[5], records[4]
    docs = read(write(tmp_path, "s1.jsonl", records, jsonl=True))
    main, side = sorted(docs, key=lambda d: len(d.meta["session_id"]))
    assert main.meta["session_id"] == "s1" and main.meta["steps"] == 4
    assert side.meta["session_id"] == "s1:sidechain:s1" and side.meta["parent_session_id"] == "s1"
    assert main.meta["subagents"] == ["s1:sidechain:s1"]
    [session, _] = load_sessions((tmp_path / "s1.jsonl").read_text())
    assert [s.extra["uuid"] for s in session.steps] == ["u1", "a2", "u4", "a5"]
    assert session.steps[1].reasoning == "use Task"
    assert session.steps[2].observations[0].subagent_refs[0].session_id == "s1:sidechain:s1"
    assert "found 3" not in main.text and "found 3" in side.text
    only_main = read(tmp_path / "s1.jsonl", TrajectoryOptions(include_sidechains=False))
    assert sum(isinstance(d, Document) for d in only_main) == 1


def test_chat_template_option_renders_each_turn(tmp_path: Path) -> None:
    template = ("{% for m in messages %}<start_of_turn>{{ m.role }}\n{{ m.content }}"
                "{% if m.tool_calls %}{{ m.tool_calls | tojson }}{% endif %}"
                "<end_of_turn>\n{% endfor %}")
    options = TrajectoryOptions(chat_template=template, loss_off=["environment"])
    [doc] = read(write(tmp_path, "c.json", CHAT), options)
    assert doc.text.startswith("<start_of_turn>system\nsys<end_of_turn>\n")
    assert doc.meta["template"].startswith("chat_template:")
    for span in doc.spans_with_prefix("loss:off"):
        assert doc.text[span.start:span.end].startswith("<start_of_turn>tool")


def test_swe_agent_demo_messages_and_trajectory_only_files(tmp_path: Path) -> None:
    history = [
        {"role": "system", "content": "SETTING: shell", "agent": "primary"},
        {"role": "user", "content": "demo task", "is_demo": True, "agent": "primary"},
        {"role": "assistant", "content": "demo answer", "action": "ls\n", "is_demo": True},
        {"role": "user", "content": "real task"},
        {"role": "assistant", "content": "look\n```\nls\n```", "thought": "look", "action": "ls\n"},
        {"role": "user", "content": "README.md\n(Open file: n/a)"},
    ]
    trajectory = [{"action": "ls\n", "observation": "README.md", "response": "look",
                   "thought": "look", "state": "{\"open_file\": \"n/a\"}"}]
    path = tmp_path / "run.traj"
    path.write_text(json.dumps({"history": history, "trajectory": trajectory,
                                "info": {"exit_status": "submitted",
                                         "model_stats": "{'tokens_sent': 10, 'instance_cost': 0.5}"}}))
    [session] = load_sessions(path.read_text())
    assert session.steps[2].extra["is_demo"] is True
    assert session.steps[4].extra["trajectory_step"]["state"] == {"open_file": "n/a"}
    assert session.final_metrics.prompt_tokens == 10 and session.final_metrics.cost_usd == 0.5
    [doc] = read(path)
    assert doc.meta["demo_steps"] == 2 and "demo answer" in doc.text
    demo_start = doc.text.index("demo task")
    assert any(s.start <= demo_start < s.end for s in doc.spans_with_prefix("loss:off"))
    [no_demo] = read(path, TrajectoryOptions(include_demos=False))
    assert "demo answer" not in no_demo.text and "real task" in no_demo.text
    only_trajectory = tmp_path / "old.traj"
    only_trajectory.write_text(json.dumps({"trajectory": trajectory * 2, "info": {}}))
    [old] = load_sessions(only_trajectory.read_text())
    assert (len(old.steps), old.tool_call_count(), old.observation_count()) == (4, 2, 2)
    assert old.steps[1].observations[0].source_call_id == old.steps[0].tool_calls[0].call_id


def test_claude_code_subagent_file_is_its_own_session(tmp_path: Path) -> None:
    records = [cc("x1", None, "user", "scan repo", isSidechain=True, agentId="ab12"),
               cc("x2", "x1", "assistant", "scanned", isSidechain=True, agentId="ab12")]
    [doc] = read(write(tmp_path, "agent-ab12.jsonl", records, jsonl=True))
    assert doc.meta["session_id"] == "s1:agent:ab12" and doc.meta["parent_session_id"] == "s1"
