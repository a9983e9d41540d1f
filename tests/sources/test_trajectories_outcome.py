"""Formats the real samples do not cover (flat OpenHands, runtime noise, Claude Code ties),
the outcome meta a trainer filters on, and the rendering rules (commands once, exit codes,
arguments verbatim, newlines)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from longweave.filters.document_filter import DocumentFilter
from longweave.schemas.document import Document
from longweave.schemas.ledger import Rejected
from longweave.schemas.recipe import parse_recipe
from longweave.schemas.recipe_filters import FilterConfig, KindRules, TrajectoryRules
from longweave.schemas.recipe_sources import TrajectoryOptions
from longweave.schemas.trajectory import ObservationResult, Session, Step, ToolCall
from longweave.sources.trajectories import TrajectoryReader
from longweave.sources.trajectories.coverage import coverage
from longweave.sources.trajectories.detect import load_sessions
from longweave.sources.trajectories.reader import unplaced_problem

FIXTURES = Path(__file__).parent / "fixtures" / "trajectories"
OPTIONS = TrajectoryOptions()


def read(path: Path, options: TrajectoryOptions = OPTIONS) -> tuple[list[Document], list[Rejected]]:
    out = list(TrajectoryReader.read("agents", str(path), options))
    return ([o for o in out if isinstance(o, Document)],
            [o for o in out if isinstance(o, Rejected)])


def turns(doc: Document, label: str) -> list[str]:
    return [doc.text[s.start:s.end] for s in doc.spans_with_prefix(label)]


def test_flat_openhands_schema_round_trips() -> None:
    path = FIXTURES / "openhands_flat_output.jsonl"
    record = json.loads(path.read_text())
    events = [event for pair in record["history"] for event in pair]
    # independent counts from the raw pairs: every event a step; every action but a message
    # a call; every observation with content, or answering a call, a result
    actions = [e for e in events if "action" in e]
    calls = [e for e in actions if e["action"] != "message"]
    results = [pair[1] for pair in record["history"]
               if pair[0]["action"] != "message" and pair[1]["observation"] != "null"]
    [doc], rejected = read(path)
    assert not rejected
    assert (doc.meta["steps"], doc.meta["tool_calls"], doc.meta["observations"]) == (
        len(events), len(calls), len(results))
    user = turns(doc, "turn:user")
    assert user[0].startswith("<|user|>\n" + record["instance"]["problem_statement"])
    assert "No, the fix is enough." in user[1]  # the reply after the agent asked
    agent = turns(doc, "turn:agent")
    assert len(agent) == len(actions) - 2  # the two user messages are not agent turns
    for action in calls:
        assert action["thought"] in doc.text
        for key in ("command", "code", "content", "path"):
            if key in action:
                assert json.dumps(action[key]) in doc.text, (key, action[key])
    assert "{}\n</tool_call>" not in doc.text  # no call lost its arguments
    assert doc.meta["orphan_observations"] == 0
    tool_turns = turns(doc, "turn:environment")
    assert [t.split("\n")[0] for t in tool_turns if "exit_code=" in t] == [
        "<|tool|> run [event-2] exit_code=0", "<|tool|> run [event-4] exit_code=1",
        "<|tool|> run [event-14] exit_code=0"]
    assert doc.meta["events_not_rendered"] == {"noise:null_observation": 4}
    assert doc.meta["coverage"]["missing"] == 0
    assert doc.meta["coverage"]["omitted_by_rule"] == {"meta:final_patch": 1}
    assert doc.meta["instance_id"] == "example__pager-12"
    assert doc.meta["resolved"] is True
    assert doc.meta["final_patch"] == record["test_result"]["git_patch"]
    assert doc.meta["fail_to_pass"] == ["tests/test_pager.py::test_exact_multiple"]
    assert doc.meta["pass_to_pass"] == ["tests/test_pager.py::test_remainder"]
    assert doc.meta["base_commit"] == record["instance"]["base_commit"]
    assert "\r" not in doc.text and "return len(items) // size + 1\n" in doc.text


def test_runtime_noise_recall_exit_codes_and_errors() -> None:
    path = FIXTURES / "openhands_runtime_events.json"
    events = json.loads(path.read_text())
    [doc], _ = read(path)
    assert doc.meta["steps"] == len(events)
    assert doc.meta["events_not_rendered"] == {
        "noise:agent_state_changed_observation": 2, "noise:change_agent_state": 1,
        "noise:recall": 1}
    assert "[?]" not in doc.text.replace("recall [?]", "")  # no turn answers nothing
    # the task is one loss-on user turn; the recall query repeating it is not rendered
    assert len(turns(doc, "turn:user")) == 1
    assert doc.text.count("Make the build pass: `make test` fails on main.") == 1
    recall = next(t for t in turns(doc, "turn:environment") if "recall" in t.split("\n")[0])
    assert "Run `make test` before committing." in recall
    start = doc.text.index(recall)
    assert any(s.start <= start < s.end for s in doc.spans_with_prefix("loss:off"))
    headers = [t.split("\n")[0] for t in turns(doc, "turn:environment")]
    assert "<|tool|> execute_bash [toolu_01] exit_code=2" in headers
    assert "<|tool|> str_replace_editor [toolu_02] error" in headers
    assert doc.meta["exit_status"] == "finished"
    assert doc.meta["started_at"] == "2025-03-01T10:00:00+00:00" and doc.meta["duration_s"] == 21.0
    assert doc.meta["coverage"]["missing"] == 0


def test_exit_code_from_the_runtime_marker_alone(tmp_path: Path) -> None:
    events = json.loads((FIXTURES / "openhands_runtime_events.json").read_text())
    del events[6]["extras"]["metadata"]  # older runtimes: only the text says it
    path = tmp_path / "events.json"
    path.write_text(json.dumps(events))
    [session] = load_sessions(path.read_text())
    assert session.steps[6].observations[0].exit_code == 2


def test_resolver_record_outcome_and_metrics(tmp_path: Path) -> None:
    events = json.loads((FIXTURES / "openhands_runtime_events.json").read_text())
    record = {"instance_id": 7, "history": events, "success": True,
              "result_explanation": "The build passes after adding the semicolon.",
              "metrics": {"accumulated_cost": 0.42, "accumulated_token_usage": {
                  "prompt_tokens": 3000, "completion_tokens": 90}}}
    path = tmp_path / "output.jsonl"
    path.write_text(json.dumps(record) + "\n")
    [doc], _ = read(path)
    assert doc.meta["resolved"] is True and doc.meta["instance_id"] == "7"
    assert doc.meta["result_explanation"].startswith("The build passes")
    assert doc.meta["final_metrics"]["cost_usd"] == 0.42
    assert doc.meta["final_metrics"]["prompt_tokens"] == 3000


def cc(uuid: str, parent: str | None, kind: str, content, **more) -> dict:
    record = {"type": kind, "uuid": uuid, "parentUuid": parent, "sessionId": "s1",
              "timestamp": "2025-01-01T00:00:00Z", "isSidechain": False, **more}
    if content is not None:
        record["message"] = {"role": "user" if kind == "user" else "assistant",
                             "content": content}
    return record


def test_claude_code_valid_record_wins_the_uuid_tie(tmp_path: Path) -> None:
    lines = [cc("u1", None, "user", "run the tests"),
             cc("a1", "u1", "assistant", None),  # malformed: no message, same uuid first
             cc("a1", "u1", "assistant", [{"type": "tool_use", "id": "t1", "name": "Bash",
                                           "input": {"command": "pytest"}}]),
             cc("u2", "a1", "user", None, toolUseResult={"stdout": "3 passed", "stderr": ""}),
             cc("x9", "u2", "user", None),  # malformed alone: quarantined, not an empty turn
             cc("a2", "u2", "assistant", "All 3 tests pass.")]
    path = tmp_path / "s.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines))
    [doc], rejected = read(path)
    assert [(r.record, r.error.split(":")[0]) for r in rejected] == [
        ("line 2", "malformed"), ("line 5", "malformed")]
    assert all("line" in r.error and "message" in r.error for r in rejected)
    assert '{"command": "pytest"}' in doc.text
    assert "3 passed" in doc.text  # toolUseResult kept though the content is missing
    assert "<|user|>\n<|end|>" not in doc.text
    assert doc.meta["steps"] == 4


def test_unparseable_arguments_render_verbatim(tmp_path: Path) -> None:
    messages = [{"role": "user", "content": "edit\r\nthe file"},
                {"role": "assistant", "content": "", "tool_calls": [
                    {"id": "c", "type": "function",
                     "function": {"name": "edit", "arguments": "{'path': 'a.py', oops"}},
                    {"id": "d", "type": "function",
                     "function": {"name": "ls", "arguments": "{\"path\":  \".\"}"}}]},
                {"role": "tool", "tool_call_id": "c", "content": "bad\rjson"},
                {"role": "tool", "tool_call_id": "d", "content": "a.py"}]
    path = tmp_path / "m.json"
    path.write_text(json.dumps(messages))
    [doc], _ = read(path)
    assert "{'path': 'a.py', oops\n</tool_call>" in doc.text
    assert '{"path":  "."}\n</tool_call>' in doc.text  # spacing as the model wrote it
    assert "edit\nthe file" in doc.text and "bad\njson" in doc.text and "\r" not in doc.text
    assert doc.meta["coverage"]["missing"] == 0


def test_mini_swe_agent_text_action_once_and_exit_message_answers_the_call(tmp_path: Path
                                                                           ) -> None:
    data = {"trajectory_format": "mini-swe-agent-1", "instance_id": "acme__app-1",
            "info": {"exit_status": "Submitted", "submission": "diff --git a/x b/x\n+fix\n"},
            "messages": [
                {"role": "system", "content": "You are a shell agent."},
                {"role": "user", "content": "Fix x."},
                {"role": "assistant", "content": "Look first.\n```bash\nls -la\n```"},
                {"role": "user", "content": "<returncode>0</returncode>\nx"},
                {"role": "assistant",
                 "content": "Done.\n```bash\necho COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT\n```"},
                {"role": "exit", "content": "diff --git a/x b/x\n+fix\n",
                 "extra": {"exit_status": "Submitted"}}]}
    path = tmp_path / "run" / "acme__app-1.traj.json"
    path.parent.mkdir()
    path.write_text(json.dumps(data))
    (tmp_path / "_evaluation").mkdir()
    (tmp_path / "_evaluation" / "acme__app-1.report.json").write_text(json.dumps(
        {"acme__app-1": {"resolved": True, "patch_successfully_applied": True, "tests_status": {
            "FAIL_TO_PASS": {"success": ["t::a"], "failure": []},
            "PASS_TO_PASS": {"success": ["t::b"], "failure": ["t::c"]}}}}))
    [doc], _ = read(path)
    assert doc.text.count("ls -la") == 1 and "<tool_call" not in doc.text
    assert (doc.meta["tool_calls"], doc.meta["observations"]) == (2, 2)
    assert doc.meta["unanswered_tool_calls"] == 0
    assert doc.meta["resolved"] is True and doc.meta["fail_to_pass"] == ["t::a"]
    assert doc.meta["pass_to_pass"] == ["t::b", "t::c"]
    assert doc.meta["evaluation"]["PASS_TO_PASS"] == {"success": 1, "failure": 1}
    assert doc.meta["final_patch"] == data["info"]["submission"]
    elsewhere = tmp_path / "reports"
    shutil.move(tmp_path / "_evaluation", elsewhere)
    [unknown], _ = read(path)
    assert unknown.meta["resolved"] is None  # no report found: unknown, not False
    [joined], _ = read(path, TrajectoryOptions(evaluation_dirs=[str(elsewhere)]))
    assert joined.meta["resolved"] is True


def outcome_docs(tmp_path: Path) -> dict[str, Document]:
    """Three OpenHands records: resolved, unresolved, and one with no outcome at all."""
    record = json.loads((FIXTURES / "openhands_flat_output.jsonl").read_text())

    def variant(number: int, **fields: object) -> dict:
        history = [list(pair) for pair in record["history"]]  # another run: other content
        history[0] = [dict(history[0][0], content=f"run {number}: fix the pager"),
                      history[0][1]]
        return dict(record, instance_id=f"example__pager-{number}", history=history, **fields)

    failed = variant(13, test_result={"git_patch": "", "report": {"resolved": False}})
    unknown = variant(14)
    del unknown["test_result"]
    path = tmp_path / "output.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in (record, failed, unknown)))
    docs, rejected = read(path)
    assert not rejected
    return {doc.meta["instance_id"]: doc for doc in docs}


def test_recipe_keeps_only_resolved_runs_by_filter_or_by_source(tmp_path: Path) -> None:
    docs = outcome_docs(tmp_path)
    assert {k: d.meta["resolved"] for k, d in docs.items()} == {
        "example__pager-12": True, "example__pager-13": False, "example__pager-14": None}
    config = FilterConfig(language_id=False, kinds={"trajectory": KindRules(
        trajectory=TrajectoryRules(require_resolved=True), on_bad_chunk="judge_document")})
    judged = {key: DocumentFilter(config)(doc) for key, doc in docs.items()}
    assert isinstance(judged["example__pager-12"], Document)
    assert judged["example__pager-13"].reason == "filtered:unresolved"
    assert "unknown" in judged["example__pager-14"].detail
    assert all(isinstance(DocumentFilter(FilterConfig(language_id=False))(d), Document)
               for d in docs.values())  # off by default
    kept, excluded = read(tmp_path / "output.jsonl", TrajectoryOptions(outcome="resolved"))
    assert [d.meta["instance_id"] for d in kept] == ["example__pager-12"]
    assert [r.error for r in excluded] == [
        "excluded: outcome is unresolved, options.outcome is resolved",
        "excluded: outcome is unknown, options.outcome is resolved"]
    failed, _ = read(tmp_path / "output.jsonl", TrajectoryOptions(outcome="unresolved"))
    assert [d.meta["instance_id"] for d in failed] == ["example__pager-13"]


RESOLVED_ONLY = """
name: resolved-agents
sources:
  - name: solved
    kind: trajectory
    paths: ["."]
    options: {outcome: resolved}
  - name: failed
    kind: trajectory
    paths: ["."]
    options: {outcome: unresolved}
filters:
  language_id: false
  kinds:
    trajectory: {trajectory: {require_resolved: true}, on_bad_chunk: judge_document}
buckets: [1024]
mixture: [{source: solved, share: 0.9}, {source: failed, share: 0.1}]
"""


def test_a_recipe_spells_the_outcome_rules(tmp_path: Path) -> None:
    recipe = parse_recipe(yaml.safe_load(RESOLVED_ONLY), tmp_path)
    solved, failed = (spec.parsed_options() for spec in recipe.sources)
    assert (solved.outcome, failed.outcome) == ("resolved", "unresolved")
    assert recipe.filters.kinds["trajectory"].trajectory.require_resolved is True
    docs = outcome_docs(tmp_path)
    kept = [DocumentFilter(recipe.filters)(d) for d in docs.values()]
    assert sum(isinstance(d, Document) for d in kept) == 1


def test_coverage_counts_what_the_text_lacks() -> None:
    session = Session("s", "test", steps=[
        Step(0, "user", "the task"),
        Step(1, "agent", "thinking aloud", reasoning="private plan",
             tool_calls=[ToolCall("c", "sh", {"cmd": "ls"}, raw_arguments='{"cmd": "ls"}')]),
        Step(2, "environment", observations=[ObservationResult("a.py\r\nb.py", "c")]),
        Step(3, "environment", noise="agent_state_changed")])
    text = "<|user|>\nthe task\nthinking aloud\n{\"cmd\": \"ls\"}\na.py\nb.py"
    found = coverage(session, text, OPTIONS)
    assert (found["pieces"], found["in_text"], found["missing"]) == (5, 4, 1)
    assert found["missing_examples"] == ["step 1 reasoning"]
    off = coverage(session, text, TrajectoryOptions(include_reasoning=False))
    assert off["missing"] == 0 and off["omitted_by_rule"] == {"reasoning_excluded": 1}
    doc = Document("d", "agents", "trajectory", text, [], {"coverage": found})
    assert unplaced_problem(doc, OPTIONS).startswith("unplaced: 1 of 5 content pieces")
    assert unplaced_problem(doc, TrajectoryOptions(chat_template="{{ m }}")) is None
