"""Which importer reads a file: decided from its content, the file name is never trusted.

A file is first tried as one JSON document (ATIF, SWE-agent, mini-SWE-agent, OpenHands
stream or record, OpenAI messages); failing that, or when no document importer claims it,
as JSONL (Claude Code, OpenHands `output.jsonl`, OpenAI message lines, or one document
per line).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from longweave.schemas.trajectory import Session
from longweave.sources.trajectories import (
    atif,
    claude_code,
    mini_swe_agent,
    openai_chat,
    openhands,
    swe_agent,
)
from longweave.sources.trajectories.common import (
    JsonLine,
    Problem,
    parse_json_document,
    parse_json_lines,
)

DocumentImporter = tuple[str, Callable[[Any], bool], Callable[..., Iterator[Session | Problem]]]
LinesImporter = tuple[str, Callable[[list[Any]], bool],
                      Callable[[list[JsonLine]], Iterator[Session | Problem]]]

# Most specific first: mini-SWE-agent before OpenAI (both hold `messages`), SWE-agent
# before OpenHands (both may hold `history`).
DOCUMENT_IMPORTERS: tuple[DocumentImporter, ...] = (
    (atif.FORMAT, atif.detect, atif.import_document),
    (mini_swe_agent.FORMAT, mini_swe_agent.detect, mini_swe_agent.import_document),
    (swe_agent.FORMAT, swe_agent.detect, swe_agent.import_document),
    (openhands.FORMAT, openhands.detect, openhands.import_document),
    (openai_chat.FORMAT, openai_chat.detect, openai_chat.import_document),
)
LINES_IMPORTERS: tuple[LinesImporter, ...] = (
    (claude_code.FORMAT, claude_code.detect_lines, claude_code.import_lines),
    (openhands.FORMAT, openhands.detect_lines, openhands.import_lines),
    (openai_chat.FORMAT, openai_chat.detect_lines, openai_chat.import_lines),
)
FORMATS: tuple[str, ...] = tuple(sorted({name for name, _, _ in DOCUMENT_IMPORTERS}
                                        | {name for name, _, _ in LINES_IMPORTERS}))


def detect_document(data: Any) -> DocumentImporter | None:
    return next((imp for imp in DOCUMENT_IMPORTERS if imp[1](data)), None)


def is_evaluation_file(data: Any) -> bool:
    """A SWE-bench harness `report.json` or a `preds.json`: instance id -> result object."""
    return isinstance(data, dict) and bool(data) and all(
        isinstance(value, dict) and ("resolved" in value or "model_patch" in value)
        for value in data.values())


def load_sessions(raw: str, allowed: frozenset[str] | None = None
                  ) -> Iterator[Session | Problem]:
    """Every session of one file, and a `Problem` for every record that could not be used."""
    if not raw.strip():
        yield Problem("*", "empty: file holds no data")
        return
    data, error = parse_json_document(raw)
    if error is None and is_evaluation_file(data):
        yield Problem("*", "excluded: SWE-bench report or predictions file (joined into the "
                           "runs' outcome, not a trajectory)")
        return
    if error is None:
        importer = detect_document(data)
        if importer is not None:
            yield from _guarded(importer[0], allowed, lambda: importer[2](data, "*"))
            return
        lines = [JsonLine(1, data)]
    else:
        lines = parse_json_lines(raw)
        if len(lines) <= 1 and "\n" not in raw.strip():
            yield Problem("*", error)
            return
    yield from _load_lines(lines, allowed)


def _load_lines(lines: list[JsonLine], allowed: frozenset[str] | None
                ) -> Iterator[Session | Problem]:
    values = [line.value for line in lines if line.error is None]
    for name, detect, importer in LINES_IMPORTERS:
        if detect(values):
            yield from _guarded(name, allowed, lambda importer=importer: importer(lines))
            return
    for line in lines:  # one whole document per line (e.g. ATIF or SWE-agent as JSONL)
        if line.error is not None:
            yield Problem(line.key, line.error)
            continue
        found = detect_document(line.value)
        if found is None:
            yield Problem(line.key, "unsupported: no trajectory format matches this record")
            continue
        yield from _guarded(found[0], allowed,
                            lambda found=found, line=line: found[2](line.value, line.key))


def _guarded(name: str, allowed: frozenset[str] | None,
             run: Callable[[], Iterator[Session | Problem]]) -> Iterator[Session | Problem]:
    if allowed is not None and name not in allowed:
        yield Problem("*", f"unsupported: format {name!r} is not in options.formats")
        return
    yield from run()
