"""Personal data redaction (emails, IP addresses) and the document-level redaction step.

Secrets (API keys, tokens, private keys) are found by `longweave.filters.secrets`; this module only
adds emails and IPs and applies both to a Document so that its spans stay exact.

As in `longweave.filters.secrets`, each pattern is guarded by a probe (a literal-led regex that
every match that would be redacted contains), so text without an `@`-address or a
dotted quad is never scanned character by character.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import replace

from longweave.filters.chunks import rewrite_segments
from longweave.filters.secrets import may_hold_secret, redact_secrets
from longweave.schemas.document import Document
from longweave.schemas.meta import FILTER, with_stage_keys

EMAIL_MARK = "[REDACTED:email]"
IP_MARK = "[REDACTED:ip_address]"

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}\b")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.]*\d)")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
# Probes: an email has `@label.` then a label character; a dotted quad has `.d.d.`; an
# IPv6 address that is redacted has three non-empty groups (see `_is_ip`) joined by `:`
# or one `::`, hence `:group:` or `:group::` followed by a hex digit.
_EMAIL_PROBE = re.compile(r"@[A-Za-z0-9-]{1,63}\.[A-Za-z0-9-]")
_IPV4_PROBE = re.compile(r"\.\d{1,3}\.\d{1,3}\.")
_IPV6_PROBE = re.compile(r":[0-9A-Fa-f]{1,4}::?[0-9A-Fa-f]")
# Addresses that identify nobody and are common in code (bind, loopback, broadcast).
_HARMLESS_IPS = frozenset({"0.0.0.0", "127.0.0.1", "::", "::1", "255.255.255.255"})


def redact_pii(text: str) -> tuple[str, dict[str, int]]:
    """Mask emails and IP addresses; return the new text and counts by kind."""
    counts: dict[str, int] = {}
    if _EMAIL_PROBE.search(text):
        text = _EMAIL.sub(_counting(counts, "email", EMAIL_MARK), text)

    def ip(match: re.Match[str]) -> str:
        candidate = match.group(0)
        if candidate in _HARMLESS_IPS or not _is_ip(candidate):
            return candidate
        counts["ip_address"] = counts.get("ip_address", 0) + 1
        return IP_MARK

    if _IPV4_PROBE.search(text):
        text = _IPV4.sub(ip, text)
    if ":" in text and _IPV6_PROBE.search(text):
        text = _IPV6.sub(ip, text)
    return text, dict(sorted(counts.items()))


def may_hold_pii(text: str) -> bool:
    """False when `redact_pii(text)` certainly changes nothing (cheap)."""
    return bool(_EMAIL_PROBE.search(text) or _IPV4_PROBE.search(text)
                or _IPV6_PROBE.search(text))


def _counting(counts: dict[str, int], kind: str, mark: str):
    def replace(_match: re.Match[str]) -> str:
        counts[kind] = counts.get(kind, 0) + 1
        return mark

    return replace


def _is_ip(candidate: str) -> bool:
    """A real address: IPv4 octets <= 255; IPv6 with at least three groups holding digits."""
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return False
    if ":" in candidate:
        return sum(1 for g in candidate.split(":") if g) >= 3
    return True


def redact_document(doc: Document, pii: bool, secrets: bool) -> Document:
    """Redact `doc` (spans shifted); per-kind counts go to `meta["filter"]["redactions"]`.

    Most documents hold nothing to redact: one probe pass over the whole text proves it
    and skips the per-segment rewrite (whose result would equal the input).
    """

    def rewrite(text: str) -> tuple[str, dict[str, int]]:
        counts: dict[str, int] = {}
        if secrets:
            text, found = redact_secrets(text)
            counts.update(found)
        if pii:
            text, found = redact_pii(text)
            for key, n in found.items():
                counts[key] = counts.get(key, 0) + n
        return text, counts

    if not (pii or secrets):
        return doc
    if not ((secrets and may_hold_secret(doc.text)) or (pii and may_hold_pii(doc.text))):
        return replace(doc, spans=list(doc.spans), meta=with_stage_keys(doc.meta, FILTER,
                                                                        redactions={}))
    redacted, counts = rewrite_segments(doc, rewrite)
    return replace(redacted, meta=with_stage_keys(redacted.meta, FILTER,
                                                  redactions=dict(sorted(counts.items()))))
