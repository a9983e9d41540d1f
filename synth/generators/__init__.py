"""Generator backends: the offline extractive one and an OpenAI-compatible HTTP client."""

from __future__ import annotations

from longweave.schemas.recipe_synth import GeneratorConfig
from longweave.synth.generators.base import GenerationError, Generator, QuestionAnswer, Usage
from longweave.synth.generators.offline import OfflineGenerator


def make_generator(config: GeneratorConfig, seed: int) -> Generator:
    """The backend the recipe names; HTTP clients are built lazily and pickle cleanly."""
    if config.backend == "openai":
        from longweave.synth.generators.openai_http import OpenAIGenerator

        return OpenAIGenerator(config)
    return OfflineGenerator(seed)


__all__ = ["GenerationError", "Generator", "OfflineGenerator", "QuestionAnswer", "Usage",
           "make_generator"]
