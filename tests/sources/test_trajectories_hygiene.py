"""Bad input is quarantined per record with a reason; duplicates, secrets and caps in meta."""

from __future__ import annotations

import json
from pathlib import Path

from longweave.schemas.document import Document
from longweave.schemas.ledger import Rejected
from longweave.schemas.recipe_sources import TrajectoryOptions
from longweave.sources.trajectories import TrajectoryReader

OPTIONS = TrajectoryOptions()


def read(path: Path, options: TrajectoryOptions = OPTIONS) -> tuple[list[Document], list[Rejected]]:
    out = list(TrajectoryReader.read("agents", str(path), options))
    return ([o for o in out if isinstance(o, Document)],
            [o for o in out if isinstance(o, Rejected)])


def record(uuid: str, parent: str | None, kind: str, text: str, session: str = "s") -> dict:
    return {"type": kind, "uuid": uuid, "parentUuid": parent, "sessionId": session,
            "message": {"role": "assistant" if kind == "assistant" else "user",
                        "content": text}}


def test_claude_code_bad_lines_are_quarantined_one_by_one(tmp_path: Path) -> None:
    lines = [
        json.dumps(record("u1", None, "user", "hello")),
        json.dumps("just a string"),
        json.dumps({"uuid": "x", "message": {"content": "no type"}}),
        json.dumps(record("a1", "u1", "assistant", "hi there")),
        json.dumps(record("c1", "c2", "assistant", "loop one")),
        json.dumps(record("c2", "c1", "user", "loop two")),
        json.dumps(record("u2", "a1", "user", "thanks")),
        json.dumps(record("a2", "u2", "assistant", "welcome"))[:40],  # cut mid-record
    ]
    path = tmp_path / "session.jsonl"
    path.write_text("\n".join(lines))
    docs, rejected = read(path)
    reasons = {r.record: r.error.split(":")[0] for r in rejected}
    assert reasons == {"line 2": "malformed", "line 3": "malformed", "line 5": "cycle",
                       "line 6": "cycle", "line 8": "truncated"}
    assert "not an object" in next(r.error for r in rejected if r.record == "line 2")
    assert "no `type`" in next(r.error for r in rejected if r.record == "line 3")
    assert all(r.locator == str(path) for r in rejected)
    [doc] = docs
    assert doc.meta["steps"] == 3 and "thanks" in doc.text and "loop" not in doc.text
    assert rejected[0].as_drop().reason.startswith("quarantined:")


def test_whole_file_problems(tmp_path: Path) -> None:
    cases = {
        "empty.json": ("", "empty"),
        "cut.json": ('{"schema_version": "ATIF-v1.4", "session_id": "x", "steps": [{"so', "truncated"),
        "junk.json": ("{not json at all}", "malformed"),
        "other.json": (json.dumps({"hello": "world"}), "unsupported"),
        "nothing.json": (json.dumps([{"role": "system", "content": "only a prompt"}]), "empty"),
    }
    for name, (content, category) in cases.items():
        path = tmp_path / name
        path.write_text(content)
        docs, rejected = read(path)
        assert not docs, name
        assert [r.error.split(":")[0] for r in rejected] == [category], (name, rejected)


def test_duplicate_sessions_in_one_file_and_across_files(tmp_path: Path) -> None:
    conversation = {"id": "conv-9", "messages": [
        {"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
    renamed = dict(conversation, id="conv-10")  # same content exported under another id
    path = tmp_path / "a.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in (conversation, conversation, renamed)))
    docs, rejected = read(path)
    assert len(docs) == 1
    assert [r.record for r in rejected] == ["line 2", "line 3"]
    assert all(r.error.startswith("duplicate: ") and "conv-9" in r.error for r in rejected)
    other = tmp_path / "copy" / "b.json"
    other.parent.mkdir()
    other.write_text(json.dumps(conversation))
    [copy], _ = read(other)
    assert copy.id == docs[0].id and copy.text == docs[0].text
    assert "exact dedupe" in copy.meta["id_scheme"]


def test_secrets_in_arguments_and_observations_are_redacted(tmp_path: Path) -> None:
    messages = [
        {"role": "user", "content": "deploy"},
        {"role": "assistant", "content": "", "tool_calls": [{"id": "t", "type": "function",
         "function": {"name": "sh", "arguments": json.dumps(
             {"cmd": "git push https://me:Sup3rS3cret@github.com/o/r.git"})}}]},
        {"role": "tool", "tool_call_id": "t",
         "content": "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\n"
                    "token ghp_abcdefghijklmnopqrstuvwxyz0123456789"},
    ]
    path = tmp_path / "s.json"
    path.write_text(json.dumps(messages))
    [doc], _ = read(path)
    assert doc.meta["secrets_redacted"] == {"github_token": 1, "private_key": 1,
                                            "url_password": 1}
    assert "Sup3rS3cret" not in doc.text and "MIIEow" not in doc.text
    [raw], _ = read(path, TrajectoryOptions(redact_secrets=False))
    assert "Sup3rS3cret" in raw.text and raw.meta["secrets_redacted_total"] == 0


def test_long_observations_are_capped_with_marker(tmp_path: Path) -> None:
    body = "".join(f"line {i}\n" for i in range(2000))
    messages = [{"role": "user", "content": "dump"},
                {"role": "assistant", "content": "", "tool_calls": [
                    {"id": "t", "type": "function", "function": {"name": "cat", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "t", "content": body}]
    path = tmp_path / "long.json"
    path.write_text(json.dumps(messages))
    [doc], _ = read(path, TrajectoryOptions(max_observation_chars=1000))
    assert doc.meta["observations_capped"] == 1
    assert doc.meta["observation_chars_omitted"] == len(body) - 1000
    assert f"[... {len(body) - 1000} characters omitted ...]" in doc.text
    assert doc.meta["observation_bytes"] == len(body)
    assert "line 0\n" in doc.text and "line 1999\n" in doc.text and "line 1000\n" not in doc.text


def test_loss_off_follows_options(tmp_path: Path) -> None:
    messages = [{"role": "system", "content": "sys"}, {"role": "user", "content": "q"},
                {"role": "assistant", "content": "a"}]
    path = tmp_path / "m.json"
    path.write_text(json.dumps(messages))
    [default], _ = read(path)
    assert [(s.start, s.end) for s in default.spans_with_prefix("loss:off")] == [
        (s.start, s.end) for s in default.spans_with_prefix("turn:system")]
    [masked], _ = read(path, TrajectoryOptions(loss_off=["system", "user"]))
    [span] = masked.spans_with_prefix("loss:off")  # adjacent turns merge into one span
    assert (span.start, span.end) == (0, masked.spans_with_prefix("turn:agent")[0].start)
