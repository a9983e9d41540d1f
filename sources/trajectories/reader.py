"""The `trajectory` source kind: agent session files in, one Document per session out.

Per session: reject if truncated, malformed or empty; drop repeats inside the file;
join the evaluation report (outcome); redact secrets; render; check that every content
piece reached the text (`coverage`: a session with unplaced content is quarantined, never
emitted half-empty); attach statistics, the task and the outcome. The document id is derived from the session
id *and* its content hash, so the same session exported to two files gets the same id
and the same text (the dedupe stage's exact pass keeps one), while two different runs
that happen to share an id never collide.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from longweave.filters.secrets import merge_counts, redact_secrets, redact_value
from longweave.schemas.document import Document, make_document_id
from longweave.schemas.fs import open_binary
from longweave.schemas.ledger import Rejected
from longweave.schemas.meta import TrajectoryMeta
from longweave.schemas.recipe_sources import TrajectoryOptions
from longweave.schemas.trajectory import Session
from longweave.sources.base import SourceReader, files_under, safe_read
from longweave.sources.trajectories.common import UNRENDERED, Problem
from longweave.sources.trajectories.coverage import coverage
from longweave.sources.trajectories.detect import load_sessions
from longweave.sources.trajectories.outcome import (
    ReportLookup,
    evaluation_folders,
    join_evaluation,
    report_lookup,
    timing,
)
from longweave.sources.trajectories.render import render_session
from longweave.sources.trajectories.stats import session_stats

ID_SCHEME = ("document id = hash(source, session id, content hash): the same session "
               "exported twice gets one id and one text, so the exact dedupe pass keeps one")


class TrajectoryReader(SourceReader):
    kind = "trajectory"

    @classmethod
    def locate(cls, paths: list[str], options: TrajectoryOptions) -> list[str]:
        return files_under(paths, tuple(options.suffixes))

    @classmethod
    def read(cls, source: str, locator: str, options: TrajectoryOptions
             ) -> Iterator[Document | Rejected]:
        return safe_read(source, locator, _read(source, locator, options))


def _read(source: str, locator: str, options: TrajectoryOptions
          ) -> Iterator[Document | Rejected]:
    with open_binary(locator) as handle:
        raw = handle.read().decode("utf-8", errors="replace")
    allowed = frozenset(options.formats) if options.formats is not None else None
    lookup = report_lookup(evaluation_folders(locator, options.evaluation_dirs))
    yield from documents_from_text(source, locator, raw, options, allowed, lookup)


def documents_from_text(source: str, locator: str, raw: str, options: TrajectoryOptions,
                        allowed: frozenset[str] | None = None,
                        lookup: ReportLookup | None = None
                        ) -> Iterator[Document | Rejected]:
    """Pure core of `read`: file content to Documents and Rejecteds (testable without files).

    `lookup` finds the evaluation report of an instance id (see `outcome.report_lookup`).
    """
    seen: dict[str, str] = {}  # content hash -> record of its first session
    ids: dict[str, str] = {}  # session id -> content hash
    for item in load_sessions(raw, allowed):
        if isinstance(item, Problem):
            yield Rejected(source, locator, item.record, item.error)
            continue
        content_hash = item.content_hash()
        if not item.session_id:
            item.session_id = f"sha-{content_hash[:16]}"
            item.session_id_origin = "content-hash"
        if content_hash in seen:
            yield Rejected(source, locator, item.record,
                           f"duplicate: session {item.session_id} repeats {seen[content_hash]}")
            continue
        seen[content_hash] = f"{item.session_id} ({item.record})"
        join_evaluation(item, lookup)
        problem = session_problem(item, options)
        if problem is not None:
            yield Rejected(source, locator, item.record, problem)
            continue
        conflict = ids.get(item.session_id) not in (None, content_hash)
        ids.setdefault(item.session_id, content_hash)
        doc = session_document(source, locator, item, content_hash, options, conflict)
        unplaced = unplaced_problem(doc, options)
        if unplaced is not None:
            yield Rejected(source, locator, item.record, unplaced)
            continue
        yield doc


def unplaced_problem(doc: Document, options: TrajectoryOptions) -> str | None:
    """Quarantine reason when content never reached the text (built-in layout only)."""
    found = doc.meta["coverage"]
    if not found["missing"] or options.chat_template:
        return None
    return (f"unplaced: {found['missing']} of {found['pieces']} content pieces are not in "
            f"the rendered text (e.g. {', '.join(found['missing_examples'])})")


def session_problem(session: Session, options: TrajectoryOptions) -> str | None:
    """Why a session must be quarantined (truncated, malformed, empty), or None."""
    if session.truncated:
        return f"truncated: {session.truncated}"
    for step in session.steps:
        if step.extra.get("malformed_message") or step.extra.get("malformed_event"):
            return f"malformed: step {step.step_id} is not an object"
    if not session.steps:
        return "empty: session has no steps"
    agent_steps = sum(1 for s in session.steps if s.source == "agent"
                      and (s.message.strip() or s.tool_calls) and not s.extra.get("is_demo"))
    if agent_steps < options.min_agent_steps:
        return (f"empty: {agent_steps} agent steps with content, "
                f"need {options.min_agent_steps}")
    if session.parent_session_id and not options.include_sidechains:
        return "excluded: side chain / sub-agent session (options.include_sidechains is false)"
    if options.outcome != "any":
        resolved = session.outcome.get("resolved")
        label = "unknown" if resolved is None else "resolved" if resolved else "unresolved"
        if label != options.outcome:
            return f"excluded: outcome is {label}, options.outcome is {options.outcome}"
    return None


def outcome_meta(session: Session) -> dict[str, Any]:
    """The task and outcome keys (declared in `TrajectoryMeta`): always present, None if unknown.

    Always present so a filter or mixture rule can tell "not resolved" from "not known".
    """
    outcome = session.outcome
    return {
        "instance_id": outcome.get("instance_id"),
        "problem_statement": outcome.get("problem_statement"),
        "final_patch": outcome.get("final_patch"),
        "resolved": outcome.get("resolved"),
        "fail_to_pass": outcome.get("fail_to_pass"),
        "pass_to_pass": outcome.get("pass_to_pass"),
        "base_commit": outcome.get("base_commit"),
        **({"result_explanation": outcome["result_explanation"]}
           if "result_explanation" in outcome else {}),
        **({"evaluation": outcome["evaluation"]} if "evaluation" in outcome else {}),
        **timing(session),
    }


def redact_session(session: Session) -> dict[str, int]:
    """Redact secrets in place in messages, reasoning, tool arguments, observations and the
    outcome's texts (the patch and the task are training-facing meta)."""
    counts: dict[str, int] = {}
    for step in session.steps:
        step.message, found = redact_secrets(step.message)
        merge_counts(counts, found)
        if step.reasoning:
            step.reasoning, found = redact_secrets(step.reasoning)
            merge_counts(counts, found)
        for call in step.tool_calls:
            call.arguments, found = redact_value(call.arguments)
            if call.raw_arguments is not None:  # the same secret, counted once: in the text
                call.raw_arguments, found = redact_secrets(call.raw_arguments)
            merge_counts(counts, found)
        for result in step.observations:
            result.content, found = redact_secrets(result.content)
            merge_counts(counts, found)
    if session.summary:
        session.summary, found = redact_secrets(session.summary)
        merge_counts(counts, found)
    for key in ("problem_statement", "final_patch", "result_explanation"):
        if isinstance(session.outcome.get(key), str):
            session.outcome[key], found = redact_secrets(session.outcome[key])
            merge_counts(counts, found)
    return dict(sorted(counts.items()))


def session_document(source: str, locator: str, session: Session, content_hash: str,
                     options: TrajectoryOptions, id_conflict: bool = False) -> Document:
    observation_bytes = sum(len(r.content.encode("utf-8")) for step in session.steps
                            for r in step.observations)
    secrets = redact_session(session) if options.redact_secrets else {}
    rendered = render_session(session, options)
    meta: TrajectoryMeta = {
        "path": locator,
        "record": session.record,
        "format": session.format,
        "session_id": session.session_id,
        "session_id_origin": session.session_id_origin,
        "content_hash": content_hash,
        "id_scheme": ID_SCHEME,
        "agent": session.agent_name,
        "agent_version": session.agent_version,
        "model": session.model,
        "summary": session.summary,
        "parent_session_id": session.parent_session_id,
        "subagents": sorted(ref.session_id for ref in session.subagents),
        "template": "default" if not options.chat_template else
        "chat_template:" + hashlib.blake2b(options.chat_template.encode(),
                                           digest_size=6).hexdigest(),
        "secrets_redacted": secrets,
        "secrets_redacted_total": sum(secrets.values()),
        **rendered.capped,
        **session_stats(session, rendered, observation_bytes),
        **outcome_meta(session),
        "events_not_rendered": {**rendered.skipped, **session.extra.get(UNRENDERED, {})},
        "coverage": coverage(session, rendered.text, options),
    }
    if session.final_metrics is not None:
        meta["final_metrics"] = {k: v for k, v in vars(session.final_metrics).items()
                                 if v not in (None, {})}
    if id_conflict:
        meta["session_id_conflict"] = True
    doc_id = make_document_id(source, f"trajectory:{session.session_id}:{content_hash}")
    return Document(id=doc_id, source=source, kind="trajectory", text=rendered.text,
                    spans=rendered.spans, meta=meta)
