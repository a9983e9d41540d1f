"""Every real sample in ../shared/data/trajectories: independent counts and full content coverage.

The counters and content extractors here read the raw JSON themselves, written apart
from the importers: per format, (turns, tool calls, results) and every non-empty content
string (task, messages, thoughts, commands, arguments, results, the final patch). Each
string must be in the rendered text or, for outcome fields, in meta.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import SHARED_DATA

from longweave.schemas.document import Document
from longweave.schemas.ledger import Rejected
from longweave.schemas.meta import declared_keys
from longweave.schemas.recipe_sources import TrajectoryOptions
from longweave.sources.trajectories import TrajectoryReader

DATA = SHARED_DATA / "trajectories"
OPTIONS = TrajectoryOptions()
CAP = OPTIONS.max_observation_chars or 0
OPENHANDS_NON_TOOL = {"message", "system", "change_agent_state", "null", "recall"}


def real_files(folder: str, pattern: str = "*") -> list[Path]:
    found = sorted(p for p in (DATA / folder).glob(pattern) if p.is_file()) \
        if (DATA / folder).is_dir() else []
    if not found:
        pytest.skip(f"real trajectories absent: {DATA / folder} (../shared/data not present)")
    return found


def read_one(path: Path) -> Document:
    out = list(TrajectoryReader.read("agents", str(path), OPTIONS))
    rejected = [o for o in out if isinstance(o, Rejected)]
    assert not rejected, rejected
    [doc] = out
    assert set(doc.meta) <= declared_keys("trajectory"), set(doc.meta) - declared_keys("trajectory")
    return doc


def norm(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def assert_covered(doc: Document, pieces: list[tuple[str, str]], name: str) -> int:
    """Each raw piece is in the text (a capped result: its head and tail), or in meta.

    A string inside a call's JSON arguments shows JSON-escaped, as the model wrote it.
    """
    meta_texts = {norm(v) for v in doc.meta.values() if isinstance(v, str)}
    for where, piece in pieces:
        needle = norm(piece)
        if not needle or needle in doc.text or needle in meta_texts:
            continue
        if json.dumps(piece, ensure_ascii=False)[1:-1] in doc.text:
            continue
        if len(piece) > CAP and needle[:100] in doc.text and needle[-100:] in doc.text:
            continue  # cut by max_observation_chars, head and tail kept
        raise AssertionError(f"{name}: {where} not in the text: {needle[:120]!r}")
    assert doc.meta["coverage"]["missing"] == 0, doc.meta["coverage"]
    return len(pieces)


# --- SWE-agent --------------------------------------------------------------------------
def swe_agent_raw(data: dict) -> tuple[tuple[int, int, int], list[tuple[str, str]]]:
    history = data.get("history") or []
    trajectory = data.get("trajectory") or []
    pieces = [(f"history[{i}].content", m["content"]) for i, m in enumerate(history)
              if isinstance(m.get("content"), str)]
    calls = results = 0
    text_action_open = False
    for i, message in enumerate(history):
        if message["role"] == "assistant":
            tool_calls = message.get("tool_calls") or []
            calls += len(tool_calls) or int(bool((message.get("action") or "").strip()))
            text_action_open = not tool_calls and bool((message.get("action") or "").strip())
            pieces += [(f"history[{i}] arguments", c["function"]["arguments"])
                       for c in tool_calls if c["function"]["arguments"] not in ("{}", "")]
            if text_action_open:
                pieces.append((f"history[{i}].action", message["action"]))
        elif message["role"] == "tool":
            results += 1
        elif message["role"] == "user" and text_action_open:
            results += 1
            text_action_open = False
    turns = len(history)
    unused = Counter(m.get("action") for m in history if m["role"] == "assistant")
    for j, record in enumerate(trajectory):
        # a matched record's response/thought is the history's reply re-spelled (kept in
        # extra); its observation is what the agent saw, so it must be in the text
        pieces.append((f"trajectory[{j}].observation", record["observation"]))
        if history and unused[record["action"]] > 0:
            unused[record["action"]] -= 1
            continue
        turns, calls, results = turns + 2, calls + 1, results + 1
        pieces += [(f"trajectory[{j}].{key}", record[key])
                   for key in ("response", "observation", "action")]
    if history and text_action_open and trajectory and trajectory[-1].get("observation"):
        turns, results = turns + 1, results + 1
        pieces.append(("trajectory[-1].observation", trajectory[-1]["observation"]))
    submission = (data.get("info") or {}).get("submission")
    if submission:
        pieces.append(("info.submission", submission))
    return (turns, calls, results), pieces


# --- OpenHands event stream -------------------------------------------------------------
def openhands_raw(events: list[dict]) -> tuple[tuple[int, int, int], list[tuple[str, str]]]:
    calls = results = 0
    pieces: list[tuple[str, str]] = []
    for i, event in enumerate(events):
        if "action" in event:
            args = event.get("args") or {}
            metadata = event.get("tool_call_metadata")
            if event["action"] not in OPENHANDS_NON_TOOL or metadata:
                calls += 1
                response = (metadata or {}).get("model_response") or {}
                for choice in response.get("choices") or []:
                    for call in choice["message"].get("tool_calls") or []:
                        if call["id"] == metadata["tool_call_id"]:
                            pieces.append((f"event {i} arguments", call["function"]["arguments"]))
                pieces.append((f"event {i} thought", args.get("thought") or ""))
            elif event["action"] in ("message", "system"):
                pieces.append((f"event {i} content", args.get("content") or ""))
        else:
            noise = event["observation"] == "agent_state_changed" or (
                event["observation"] in ("null", "recall") and not event.get("content"))
            if not noise:
                results += 1
                pieces.append((f"event {i} content", event.get("content") or ""))
    return (len(events), calls, results), pieces


# --- Claude Code ------------------------------------------------------------------------
def string_leaves(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from string_leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from string_leaves(item)


def claude_code_raw(lines: list[str]) -> tuple[tuple[int, int, int], list[tuple[str, str]]]:
    records = [json.loads(line) for line in lines if line.strip()]
    turns = calls = results = 0
    pieces: list[tuple[str, str]] = []
    for n, record in enumerate(records, 1):
        if record.get("type") not in ("user", "assistant"):
            continue
        turns += 1
        content = (record.get("message") or {}).get("content")
        if isinstance(content, str):
            pieces.append((f"line {n} content", content))
            continue
        for block in content or []:
            kind = block.get("type")
            if kind == "text":
                pieces.append((f"line {n} text", block["text"]))
            elif kind == "thinking":
                pieces.append((f"line {n} thinking", block["thinking"]))
            elif kind == "tool_use":
                calls += 1
                pieces += [(f"line {n} input", s) for s in string_leaves(block.get("input"))]
            elif kind == "tool_result":
                results += 1
                pieces += [(f"line {n} result", s) for s in string_leaves(block.get("content"))
                           if s != "text"]
    return (turns, calls, results), pieces


# --- mini-SWE-agent ---------------------------------------------------------------------
def mini_swe_raw(data: dict) -> tuple[tuple[int, int, int], list[tuple[str, str]]]:
    messages = data["messages"]
    calls = sum(len(m.get("tool_calls") or []) for m in messages)
    results = sum(1 for m in messages if m["role"] in ("tool", "exit"))
    pieces = [(f"messages[{i}].content", m["content"]) for i, m in enumerate(messages)]
    pieces += [(f"messages[{i}] arguments", c["function"]["arguments"])
               for i, m in enumerate(messages) for c in m.get("tool_calls") or []]
    pieces.append(("info.submission", data["info"].get("submission") or ""))
    return (len(messages), calls, results), pieces


def imported_counts(doc: Document) -> tuple[int, int, int]:
    return doc.meta["steps"], doc.meta["tool_calls"], doc.meta["observations"]


def _raw_of_json(raw):  # noqa: ANN001, ANN202 - a format's raw counter over a JSON file
    return lambda path: raw(json.loads(path.read_text()))


@pytest.mark.parametrize(("folder", "raw"), [
    ("swe-agent", _raw_of_json(swe_agent_raw)),
    ("openhands", _raw_of_json(openhands_raw)),
    ("claude-code", lambda path: claude_code_raw(path.read_text().splitlines())),
])
def test_every_file_counts_and_coverage(folder: str, raw) -> None:  # noqa: ANN001
    for path in real_files(folder):
        counts, pieces = raw(path)
        doc = read_one(path)
        assert imported_counts(doc) == counts, path.name
        assert_covered(doc, pieces, path.name)


@pytest.mark.slow
def test_mini_swe_agent_every_run_counts_coverage_and_resolved() -> None:
    runs = real_files("mini-swe-agent", "*/*.traj.json")
    resolved = 0
    for path in runs:
        data = json.loads(path.read_text())
        counts, pieces = mini_swe_raw(data)
        doc = read_one(path)
        assert imported_counts(doc) == counts, path.name
        assert_covered(doc, pieces, path.name)
        report = json.loads((DATA / "mini-swe-agent" / "_evaluation"
                             / f"{data['instance_id']}.report.json").read_text())
        entry = report[data["instance_id"]]
        assert doc.meta["resolved"] is entry["resolved"], path.name
        assert doc.meta["instance_id"] == data["instance_id"]
        assert doc.meta["final_patch"] == data["info"]["submission"]
        assert sorted(doc.meta["fail_to_pass"]) == sorted(
            entry["tests_status"]["FAIL_TO_PASS"]["success"]
            + entry["tests_status"]["FAIL_TO_PASS"]["failure"])
        assert doc.meta["problem_statement"] and norm(doc.meta["problem_statement"]) in doc.text
        assert doc.meta["duration_s"] > 0 and doc.meta["started_at"].startswith("20")
        resolved += doc.meta["resolved"]
    assert resolved == sum(
        next(iter(json.loads(p.read_text()).values()))["resolved"]
        for p in (DATA / "mini-swe-agent" / "_evaluation").glob("*.report.json"))


def test_evaluation_files_beside_runs_are_excluded_with_a_reason() -> None:
    [preds] = real_files("mini-swe-agent", "preds.json")
    report = real_files("mini-swe-agent", "_evaluation/*.report.json")[0]
    for path in (preds, report):
        [rejected] = TrajectoryReader.read("agents", str(path), OPTIONS)
        assert isinstance(rejected, Rejected) and rejected.error.startswith("excluded:")


def test_text_actions_show_their_command_once() -> None:
    """SWE-agent text actions: the model's fenced block, no synthetic `<tool_call>` twin."""
    checked = 0
    for path in real_files("swe-agent"):
        data = json.loads(path.read_text())
        doc = read_one(path)
        for message in data["history"]:
            action = (message.get("action") or "").strip()
            if message["role"] != "assistant" or message.get("tool_calls") or not action:
                continue
            if action not in message["content"]:
                continue
            turn = next(doc.text[s.start:s.end] for s in doc.spans_with_prefix("turn:agent")
                        if norm(message["content"]) in doc.text[s.start:s.end])
            assert turn.count(norm(action)) == norm(message["content"]).count(norm(action))
            assert "<tool_call" not in turn
            checked += 1
    assert checked > 50


def test_rendered_text_has_no_carriage_returns() -> None:
    path = next(p for p in real_files("swe-agent") if "marshmallow" in p.name)
    assert "\r" in json.loads(path.read_text())["info"]["submission"]  # CRLF in the input
    doc = read_one(path)
    assert "\r" not in doc.text
    assert doc.meta["final_patch"].startswith("\r\ndiff --git")  # meta keeps the value as is
