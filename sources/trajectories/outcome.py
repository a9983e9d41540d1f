"""The outcome of a session (did it resolve the task, with which patch) and its task, for meta.

Why: a trainer filters agent data on outcome (keep resolved runs, one source per outcome)
and conditions on the task. Importers put what the record itself says into
`Session.outcome`; a SWE-bench harness `report.json` found next to the runs (a folder
named `_evaluation` beside the file or up to two folders above it, or the folders named
in `options.evaluation_dirs`) is joined by instance id and supplies `resolved` and the
FAIL_TO_PASS / PASS_TO_PASS results when the record has none.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from longweave.schemas import fs
from longweave.schemas.trajectory import Session
from longweave.sources.trajectories.stats import parse_time

EVALUATION_FOLDER = "_evaluation"
ReportLookup = Callable[[str], "tuple[str, Mapping[str, Any]] | None"]


def evaluation_folders(locator: str, configured: list[str] | None) -> list[str]:
    """Where reports for the runs in `locator` may be: configured, else `_evaluation` nearby."""
    if configured is not None:
        return list(configured)
    folder = posixpath.dirname(locator)
    found = []
    for _ in range(3):
        found.append(fs.join(folder, EVALUATION_FOLDER))
        parent = posixpath.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return found


def report_lookup(folders: list[str]) -> ReportLookup:
    """A function from instance id to (report path, its entry), reading each file once."""
    cache: dict[str, tuple[str, Mapping[str, Any]] | None] = {}

    def lookup(instance_id: str) -> tuple[str, Mapping[str, Any]] | None:
        if instance_id in cache:
            return cache[instance_id]
        cache[instance_id] = None
        for folder in folders:
            for path in (fs.join(folder, f"{instance_id}.report.json"),
                         fs.join(folder, instance_id, "report.json")):
                if not _exists(path):
                    continue
                data = fs.read_json(path)
                entry = data.get(instance_id) if isinstance(data, Mapping) else None
                if isinstance(entry, Mapping):
                    cache[instance_id] = (path, entry)
                    return cache[instance_id]
        return None

    return lookup


def _exists(path: str) -> bool:
    """Local paths without Beam (`fs.exists` imports it): a probe per file stays cheap."""
    return os.path.isfile(path.removeprefix("file://")) if fs.is_local(path) else fs.exists(path)


def join_evaluation(session: Session, lookup: ReportLookup | None) -> None:
    """Fill `resolved` and the test lists from the harness report, when one matches."""
    instance_id = session.outcome.get("instance_id")
    if lookup is None or not isinstance(instance_id, str):
        return
    found = lookup(instance_id)
    if found is None:
        return
    path, entry = found
    tests = entry.get("tests_status") if isinstance(entry.get("tests_status"), Mapping) else {}
    summary: dict[str, Any] = {"report": path}
    for key in ("patch_exists", "patch_successfully_applied"):
        if isinstance(entry.get(key), bool):
            summary[key] = entry[key]
    for name, field in (("FAIL_TO_PASS", "fail_to_pass"), ("PASS_TO_PASS", "pass_to_pass")):
        result = tests.get(name) if isinstance(tests.get(name), Mapping) else {}
        passed = [str(t) for t in result.get("success") or []]
        failed = [str(t) for t in result.get("failure") or []]
        summary[name] = {"success": len(passed), "failure": len(failed)}
        session.outcome.setdefault(field, passed + failed)
    if session.outcome.get("resolved") is None and isinstance(entry.get("resolved"), bool):
        session.outcome["resolved"] = entry["resolved"]
    session.outcome["evaluation"] = summary


def timing(session: Session) -> dict[str, Any]:
    """`started_at` (ISO-8601, UTC) and `duration_s` from the steps' timestamps."""
    times = [t for t in (parse_time(step.timestamp) for step in session.steps) if t is not None]
    if not times:
        return {"started_at": None, "duration_s": None}
    start = min(times)
    return {"started_at": datetime.fromtimestamp(start, timezone.utc).isoformat(),
            "duration_s": round(max(times) - start, 3)}
