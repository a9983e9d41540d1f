"""Redact credentials from text: provider API keys, auth tokens, private keys, URL passwords.

Pure functions, no state: trajectory hygiene uses them on tool arguments and observations,
the PII filter on any text or code. Each rule names the secret with a regex group called
`secret`; only that group is replaced (by `[REDACTED:<kind>]`), so the surrounding text
(`Authorization: Bearer `, `https://user:`…) keeps its shape and stays readable.

Rules favour precision: a generic `password = ...` only counts when the value is quoted
or the name is an upper-case environment variable, so code such as
`token = self.next_token()` is left alone.

Speed: almost no text holds a secret, and a full rule scan runs at a few tens of MB/s
(a pattern that starts with `\\b` or a character class is tried at every position).
So a rule runs only when its trigger substrings occur *and* one of its probes matches: a
probe is a regex that every match of the rule must contain and that starts with a
literal, which the regex engine finds at memchr speed. Probes never change a result,
they only skip scans that could not have matched.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

REDACTED = "[REDACTED:{kind}]"

_SECRET_NAME = r"(?:api[_-]?key|apikey|secret(?:[_-]?key)?|access[_-]?token|auth[_-]?token|" \
               r"password|passwd|pwd|client[_-]?secret|private[_-]?key)"

# Characters that a case-insensitive pattern matches to an ASCII letter but whose
# `lower()` is not that letter; folded before probes run on lower-cased text.
_CASE_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s"})


class TextViews:
    """One text with its lower-cased and case-folded forms, each computed once on demand."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._lowered: str | None = None
        self._folded: str | None = None

    @property
    def lowered(self) -> str:
        if self._lowered is None:
            self._lowered = self.text.lower()
        return self._lowered

    @property
    def folded(self) -> str:
        """Lower-cased, with the few non-ASCII letters that `(?i)` matches to ASCII folded."""
        if self._folded is None:
            text = self.text
            if not text.isascii() and any(c in text for c in "\u0130\u0131\u017f"):
                self._folded = text.translate(_CASE_FOLD).lower()
            else:
                self._folded = self.lowered
        return self._folded


@dataclass(frozen=True)
class Rule:
    """A secret shape; `triggers` and `probes` are necessary conditions checked first.

    A lower-case trigger is looked for in the lower-cased text. Probes (any one must
    match) run on the folded text when `fold_probes`, else on the text itself.
    """

    kind: str
    pattern: re.Pattern[str]
    triggers: tuple[str, ...]
    probes: tuple[re.Pattern[str], ...] = ()
    fold_probes: bool = False

    def may_match(self, views: TextViews) -> bool:
        if not self.probes:
            return self._triggered(views)
        probed = views.folded if self.fold_probes else views.text
        # Every probe match holds a trigger, so it implies the trigger check unless
        # folding made the probed text differ from the lower-cased one.
        if probed is not views.text and probed is not views.lowered \
                and not self._triggered(views):
            return False
        return any(probe.search(probed) for probe in self.probes)

    def _triggered(self, views: TextViews) -> bool:
        return any(t in (views.lowered if t.islower() else views.text) for t in self.triggers)


def _probes(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


_QUOTED_VALUE = r"[\"']?\s*[:=]\s*[\"'][^\"'\s]{8}"
_ENV_VALUE = r"[A-Z0-9_]*=[^\s\"'$]{8}"
_BEARER_VALUE = r"\s+[a-z0-9._~+/-]{16}"

# Order matters: whole blocks and specific providers before generic rules.
_RULES: tuple[Rule, ...] = (
    Rule("private_key", re.compile(
        r"(?P<secret>-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
        r"[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)"), ("PRIVATE KEY",),
        _probes(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY")),
    Rule("url_password", re.compile(
        r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]+:(?P<secret>[^\s@/]+)@[^\s/]+"), ("://",),
        _probes(r"://[^\s:/@]+:[^\s@/]+@")),
    Rule("anthropic_key", re.compile(r"(?P<secret>\bsk-ant-[A-Za-z0-9_-]{20,})"), ("sk-ant-",),
         _probes(r"sk-ant-[A-Za-z0-9_-]{20}")),
    Rule("openai_key", re.compile(r"(?P<secret>\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{20,})"),
         ("sk-",), _probes(r"sk-[A-Za-z0-9_-]{20}")),
    Rule("github_token", re.compile(
        r"(?P<secret>\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,}))"),
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
        _probes(r"gh[pousr]_[A-Za-z0-9]{30}", r"github_pat_[A-Za-z0-9_]{22}")),
    Rule("aws_access_key", re.compile(r"(?P<secret>\b(?:AKIA|ASIA)[0-9A-Z]{16}\b)"),
         ("AKIA", "ASIA")),
    Rule("aws_secret_key", re.compile(
        r"(?i:aws_?secret_?access_?key)[\"']?\s*[:=]\s*[\"']?(?P<secret>[A-Za-z0-9/+=]{40})"),
        ("secret",), _probes(r"aws_?secret_?access_?key"), fold_probes=True),
    Rule("google_api_key", re.compile(r"(?P<secret>\bAIza[0-9A-Za-z_-]{35})"), ("AIza",)),
    Rule("slack_token", re.compile(r"(?P<secret>\bxox[abprs]-[A-Za-z0-9-]{10,})"), ("xox",)),
    Rule("stripe_key", re.compile(r"(?P<secret>\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,})"),
         ("_live_", "_test_"), _probes(r"k_live_[A-Za-z0-9]{16}", r"k_test_[A-Za-z0-9]{16}")),
    Rule("huggingface_token", re.compile(r"(?P<secret>\bhf_[A-Za-z0-9]{30,})"), ("hf_",),
         _probes(r"hf_[A-Za-z0-9]{30}")),
    Rule("jwt", re.compile(
        r"(?P<secret>\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})"),
        ("eyJ",)),
    Rule("bearer_token", re.compile(
        r"(?i:\b(?:bearer|token)\s+)(?P<secret>[A-Za-z0-9._~+/-]{16,}=*)"),
        ("bearer", "token"), _probes("bearer" + _BEARER_VALUE, "token" + _BEARER_VALUE),
        fold_probes=True),
    Rule("basic_auth", re.compile(
        r"(?i:\bauthorization:\s*basic\s+)(?P<secret>[A-Za-z0-9+/]{8,}=*)"),
        ("authorization",), _probes(r"authorization:\s*basic\s+[a-z0-9+/]{8}"),
        fold_probes=True),
    # Every name in _SECRET_NAME ends in key, secret, token, passw(or)d or pwd.
    Rule("assigned_secret", re.compile(
        rf"(?i:{_SECRET_NAME})[\"']?\s*[:=]\s*(?P<quote>[\"'])(?P<secret>[^\"'\s]{{8,}})(?P=quote)"),
        ("key", "secret", "token", "passw", "pwd"),
        _probes(*(name + _QUOTED_VALUE
                  for name in ("key", "secret", "token", "passw(?:or)?d", "pwd"))),
        fold_probes=True),
    Rule("env_secret", re.compile(
        r"\b[A-Z0-9_]*(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD)[A-Z0-9_]*=(?P<secret>[^\s\"'$]{8,})"),
        ("KEY", "TOKEN", "SECRET", "PASSW"),
        _probes(*(name + _ENV_VALUE for name in ("KEY", "TOKEN", "SECRET", "PASSW")))),
)

def may_hold_secret(text: str) -> bool:
    """False when no rule can match `text` (cheap); redacting it would change nothing."""
    views = TextViews(text)
    return any(rule.may_match(views) for rule in _RULES)


def redact_secrets(text: str) -> tuple[str, dict[str, int]]:
    """Replace every secret in `text`; return the new text and counts by kind (sorted)."""
    counts: dict[str, int] = {}
    views = TextViews(text)
    for rule in _RULES:
        if rule.may_match(views):
            text = _apply_rule(text, rule.kind, rule.pattern, counts)
            views = TextViews(text)
    return text, dict(sorted(counts.items()))


def _apply_rule(text: str, kind: str, pattern: re.Pattern[str], counts: dict[str, int]) -> str:
    marker = REDACTED.format(kind=kind)

    def replace(match: re.Match[str]) -> str:
        if match.group("secret").startswith("[REDACTED:"):
            return match.group(0)
        counts[kind] = counts.get(kind, 0) + 1
        start, end = match.span("secret")
        whole_start = match.start()
        found = match.group(0)
        return found[: start - whole_start] + marker + found[end - whole_start:]

    return pattern.sub(replace, text)


def redact_value(value: Any) -> tuple[Any, dict[str, int]]:
    """Redact every string inside a JSON-like value (dicts, lists); keys are left as they are."""
    counts: dict[str, int] = {}

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            clean, found = redact_secrets(item)
            merge_counts(counts, found)
            return clean
        if isinstance(item, Mapping):
            return {key: walk(val) for key, val in item.items()}
        if isinstance(item, list | tuple):
            return [walk(val) for val in item]
        return item

    return walk(value), dict(sorted(counts.items()))


def merge_counts(total: dict[str, int], more: Mapping[str, int]) -> dict[str, int]:
    """Add `more` into `total` in place (and return it) — for summing per-field counts."""
    for kind, n in more.items():
        total[kind] = total.get(kind, 0) + n
    return total
