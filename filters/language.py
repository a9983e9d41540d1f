"""Offline language identification with the naive-Bayes model shipped in the py3langid wheel.

Nothing is downloaded at run time: the model file sits inside the installed package. A
long document is judged on a few samples spread over its text, so a Latin preface or an
English licence footer does not decide the language of a French novel.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

SAMPLE_CHARS = 2000
SAMPLES = 5


@dataclass(frozen=True)
class LanguageGuess:
    language: str
    score: float

    def to_meta(self) -> dict[str, Any]:
        return {"language": self.language, "language_score": round(self.score, 4)}


UNKNOWN = LanguageGuess("und", 0.0)


@lru_cache(maxsize=1)
def shared_model() -> Any:
    """The py3langid model, loaded once per process (decompressing it takes ~0.7 CPU-s;
    classifying never changes it, so every identifier in the process shares it, and a
    worker forked from a process that loaded it pays nothing)."""
    from py3langid.langid import MODEL_FILE
    from py3langid.langid import LanguageIdentifier as _Model

    return _Model.from_model_file(MODEL_FILE, norm_probs=True)


class LanguageIdentifier:
    """Classifies text with the process's shared model (loaded on first use)."""

    def __init__(self) -> None:
        self._model = shared_model()

    def classify(self, text: str) -> LanguageGuess:
        """Majority language over evenly spaced samples; score = mean probability of it."""
        samples = sample_text(text, SAMPLES, SAMPLE_CHARS)
        if not samples:
            return UNKNOWN
        guesses = [self._model.classify(s) for s in samples]
        votes = Counter(lang for lang, _ in guesses)
        top = max(votes.items(), key=lambda kv: (kv[1], sum(
            p for lang, p in guesses if lang == kv[0]), kv[0]))[0]
        probs = [float(p) for lang, p in guesses if lang == top]
        return LanguageGuess(top, sum(probs) / len(samples))


def sample_text(text: str, count: int, size: int) -> list[str]:
    """Up to `count` windows of `size` characters spread evenly; blank ones skipped."""
    if len(text) <= size * count:
        pieces = [text[i:i + size] for i in range(0, len(text), size)][:count]
    else:
        step = (len(text) - size) // (count - 1) if count > 1 else 0
        pieces = [text[i * step:i * step + size] for i in range(count)]
    return [p for p in pieces if any(c.isalpha() for c in p)]
