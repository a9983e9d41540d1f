"""Helpers every importer shares: loading JSON/JSONL, argument parsing, leftovers into `extra`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from longweave.schemas.trajectory import Metrics

# `Session.extra` key: records of the file that are not conversation events (Claude Code
# `file-history-snapshot`...), counted per kind; the reader adds them to
# `meta.events_not_rendered` so they are never dropped without a count
UNRENDERED = "unrendered_records"


@dataclass(frozen=True)
class Problem:
    """One record an importer could not use; the reader turns it into a `Rejected`.

    `error` starts with a short category (`malformed`, `truncated`, `cycle`, …) and a
    colon, which becomes the ledger's `quarantined:<category>` reason.
    """

    record: str
    error: str


@dataclass(frozen=True)
class JsonLine:
    """One non-blank JSONL line: its parsed value, or the parse error."""

    number: int
    value: Any = None
    error: str | None = None

    @property
    def key(self) -> str:
        return f"line {self.number}"


def parse_json_lines(raw: str) -> list[JsonLine]:
    """Every non-blank line parsed on its own, so one bad line spoils only itself."""
    lines = raw.split("\n")
    out: list[JsonLine] = []
    last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            out.append(JsonLine(index + 1, json.loads(line)))
        except ValueError as error:
            category = "truncated" if index == last and _ends_early(line, error) else "malformed"
            out.append(JsonLine(index + 1, error=f"{category}: line {index + 1} is not valid "
                                                 f"JSON ({error})"))
    return out


def _ends_early(text: str, error: ValueError) -> bool:
    """True when the JSON parser ran out of input: the file was cut off mid-record."""
    position = getattr(error, "pos", -1)
    return position >= len(text.rstrip()) - 1 or "Unterminated" in str(error)


def parse_json_document(raw: str) -> tuple[Any, str | None]:
    """Parse a whole-file JSON document; on failure say whether it looks truncated."""
    try:
        return json.loads(raw), None
    except ValueError as error:
        category = "truncated" if _ends_early(raw, error) else "malformed"
        return None, f"{category}: file is not valid JSON ({error})"


def parse_arguments(raw: Any) -> tuple[dict[str, Any], str | None]:
    """Tool arguments as a JSON object, plus the arguments exactly as written.

    OpenAI-style arguments are a JSON *string*: it is parsed for `arguments` (statistics,
    sub-agent links, redaction) and also kept verbatim, so the rendered call shows what the
    model wrote, including text that does not parse (then `arguments` is empty).
    """
    if raw is None:
        return {}, None
    if isinstance(raw, Mapping):
        return dict(raw), None
    if isinstance(raw, str):
        if not raw.strip():
            return {}, raw or None
        try:
            parsed = json.loads(raw)
        except ValueError:
            return {}, raw
        return (parsed if isinstance(parsed, dict) else {}), raw
    return {}, json.dumps(raw, ensure_ascii=False, sort_keys=True)


def normalise_newlines(text: str) -> str:
    """CRLF and lone CR become LF, as the book reader does, so every kind tokenizes alike."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def int_or_none(value: Any) -> int | None:
    """An integer field (exit codes, token counts) or None; booleans are not numbers here."""
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def leftovers(record: Mapping[str, Any], used: Iterable[str]) -> dict[str, Any]:
    """The fields of `record` no schema field took, for `extra` (nothing silently dropped)."""
    taken = set(used)
    return {key: record[key] for key in sorted(record) if key not in taken}


def text_of(content: Any) -> str:
    """Plain text of a message `content`: a string, or a list of typed parts/blocks.

    Non-text parts (images, documents) are shown as a short placeholder so their
    position survives in the rendered text.
    """
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, Mapping):
                if isinstance(part.get("text"), str):
                    parts.append(part["text"])
                elif part.get("type") in ("tool_result",) and "content" in part:
                    parts.append(text_of(part["content"]))
                else:
                    parts.append(f"[{part.get('type', 'part')}]")
        return "\n".join(parts)
    if isinstance(content, Mapping) and isinstance(content.get("text"), str):
        return content["text"]
    return json.dumps(content, ensure_ascii=False, sort_keys=True)


def openai_usage_metrics(usage: Any, cost: Any = None) -> Metrics | None:
    """Metrics from an OpenAI-style `usage` object (as LiteLLM / OpenHands record it)."""
    if not isinstance(usage, Mapping):
        return Metrics(cost_usd=float(cost)) if isinstance(cost, int | float) else None
    details = usage.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, Mapping) else None
    if cached is None:
        cached = usage.get("cache_read_input_tokens")
    prompt = usage.get("prompt_tokens", usage.get("input_tokens"))
    completion = usage.get("completion_tokens", usage.get("output_tokens"))
    extra = leftovers(usage, ("prompt_tokens", "completion_tokens", "input_tokens",
                              "output_tokens", "prompt_tokens_details"))
    return Metrics(prompt_tokens=int_or_none(prompt), completion_tokens=int_or_none(completion),
                   cached_tokens=int_or_none(cached),
                   cost_usd=float(cost) if isinstance(cost, int | float) else None, extra=extra)


def as_str(value: Any) -> str | None:
    """A string field as a string; numbers (ids, epoch timestamps) become their text."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
