"""The built-in offline generator: extractive questions only, no pretence of paraphrase."""

from __future__ import annotations

import re

from longweave.schemas.seeded import keyed_rng
from longweave.synth.generators.base import GenerationError, Generator, QuestionAnswer

_TOKEN = re.compile(r"\S+")
_CUE_WORDS = 4


class OfflineGenerator(Generator):
    """Asks for the word that follows a verbatim cue phrase inside the evidence passage.

    The answer is checkable by string search, and meta records `paraphrases: false` so no
    one mistakes its quotes for paraphrase training data.
    """

    name = "offline-extractive"
    paraphrases = False

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def question(self, passage: str, title: str, key: str) -> QuestionAnswer:
        tokens = list(_TOKEN.finditer(passage))
        windows = []
        for i in range(len(tokens) - _CUE_WORDS):
            first, last, nxt = tokens[i], tokens[i + _CUE_WORDS - 1], tokens[i + _CUE_WORDS]
            cue = passage[first.start():last.end()]
            answer = nxt.group(0).strip("\"'.,;:!?()[]{}`")
            wordy = sum(t.group(0).isalpha() for t in tokens[i:i + _CUE_WORDS]) >= _CUE_WORDS - 1
            if wordy and '"' not in cue and "  " not in cue and "\n" not in cue and answer and any(
                    c.isalnum() for c in answer):
                windows.append((cue, answer))
        if not windows:
            raise GenerationError("no-question", "passage too short for an extractive question")
        cue, answer = keyed_rng(self.seed, "offline-question", key).choice(windows)
        question = (f'In the document "{title}", find the passage containing the words '
                    f'"{cue}". Which word comes right after them?')
        return QuestionAnswer(question=question, answer=f'The word after "{cue}" is "{answer}".',
                              paraphrase=None, cue=cue)
