"""The generator contract: who writes questions, paraphrases, rephrasings and rationales."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field


class GenerationError(Exception):
    """A generation that failed for good; `kind` becomes the drop reason `synth-failed:<kind>`."""

    def __init__(self, kind: str, message: str = "") -> None:
        super().__init__(f"{kind}: {message}" if message else kind)
        self.kind = kind


@dataclass
class Usage:
    """Requests, cache hits, tokens and cost spent on one sample (or a whole run)."""

    requests: int = 0
    cached: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0

    def add(self, other: Usage) -> None:
        self.requests += other.requests
        self.cached += other.cached
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cost += other.cost

    def to_meta(self) -> dict[str, float | int]:
        return {"requests": self.requests, "cached": self.cached,
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "cost": round(self.cost, 6)}


@dataclass
class QuestionAnswer:
    """A question about one passage and its answer.

    `paraphrase` is the generator's restatement of the evidence, or None when the
    generator cannot paraphrase (then the sample quotes). `cue` is a verbatim phrase the
    question relies on; the caller checks it is unique in the context.
    """

    question: str
    answer: str
    paraphrase: str | None = None
    cue: str | None = None
    usage: Usage = field(default_factory=Usage)


class Generator(ABC):
    """A question writer; rewriting (stitch/stretch, paraphrase) needs a model."""

    name: str = "generator"
    paraphrases: bool = False

    @abstractmethod
    def question(self, passage: str, title: str, key: str) -> QuestionAnswer:
        """A question answerable from `passage`; `key` makes the choice deterministic."""

    def restate(self, question: str, reference: str, evidence: list[str], key: str
                ) -> QuestionAnswer:
        """The question in other words and an answer in the model's words that still quotes
        every `evidence` span; the offline generator keeps the reference as it is."""
        return QuestionAnswer(question, reference)

    def rewrite(self, texts: list[str], instruction: str, key: str) -> tuple[list[str], Usage]:
        """Rewrite every text per `instruction`; all succeed or a GenerationError is raised."""
        raise GenerationError("unsupported", f"{self.name} cannot rewrite text")

    def describe(self) -> dict[str, object]:
        return {"name": self.name, "paraphrases": self.paraphrases}
