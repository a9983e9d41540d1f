"""Recipe section `synthesize`: which synthetic documents to build and how.

Everything is off by default, so a recipe without this section keeps the stage a
pass-through. Each kind (megadocs, paraphrase, tasks) switches on separately; grouping
and the generator are shared by all of them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator

TASK_FAMILIES: tuple[str, ...] = (
    "niah_single", "niah_multikey", "niah_multivalue", "niah_multiquery",
    "variable_tracking", "common_words", "frequent_words",
)
TaskFamily = Literal[
    "niah_single", "niah_multikey", "niah_multivalue", "niah_multiquery",
    "variable_tracking", "common_words", "frequent_words",
]
ValueType = Literal["words", "numbers", "uuids"]
# Question families of paraphrase-retrieval samples: the extractive passage question, and
# families grounded in a row's code graph, chapters or refer-back links (synth/families).
QUESTION_FAMILIES: tuple[str, ...] = (
    "next_word", "code_definition", "code_returns", "code_call_sites", "code_rename",
    "code_import_target", "book_first_last", "book_two_hop", "book_which_chapter",
    "traj_refer_back", "traj_outcome",
)
QuestionFamily = Literal[
    "next_word", "code_definition", "code_returns", "code_call_sites", "code_rename",
    "code_import_target", "book_first_last", "book_two_hop", "book_which_chapter",
    "traj_refer_back", "traj_outcome",
]
NEXT_WORD_SHARE = 0.2  # the default share of the extractive family; the rest split evenly


def default_family_shares() -> dict[str, float]:
    grounded = [f for f in QUESTION_FAMILIES if f != "next_word"]
    return {"next_word": NEXT_WORD_SHARE,
            **{f: round((1 - NEXT_WORD_SHARE) / len(grounded), 6) for f in grounded}}


class GroupingConfig(BaseModel):
    """How related documents are found: Quest-style keywords or an ICP nearest-neighbour walk."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["keywords", "icp"] = "keywords"
    keywords_per_doc: int = Field(default=8, ge=1, le=64)
    candidate_terms: int = Field(default=48, ge=1, le=512,
                                 description="most frequent terms a sketch keeps per document")
    keyword_df_cap_fraction: float = Field(
        default=0.1, gt=0, le=1,
        description="a keyword found in more than this share of documents is too common")
    keyword_df_cap_floor: int = Field(default=8, ge=2,
                                      description="the cap never goes below this many documents")
    max_group_docs: int = Field(default=256, ge=2, description="larger keyword groups are split")
    similarity: Literal["tfidf", "minhash"] = "tfidf"
    neighbours: int = Field(default=8, ge=1, description="nearest neighbours kept per document")
    max_chain_docs: int = Field(default=64, ge=2, description="longest ICP walk")
    minhash_perm: int = Field(default=64, ge=16, le=512)
    minhash_threshold: float = Field(default=0.2, gt=0, lt=1)
    max_sketch_docs: int = Field(
        default=2_000_000, ge=1,
        description="grouping holds one sketch per document on one worker; above this it refuses")


class MegadocConfig(BaseModel):
    """Megadocs: related documents stitched to a bucket with verifiable dependencies."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    mode: Literal["concat", "stitch", "stretch"] = "concat"
    buckets: list[PositiveInt] | None = Field(default=None, description="None: every bucket")
    max_samples: int = Field(default=1000, ge=0)
    min_fill: float = Field(default=0.5, gt=0, le=1,
                            description="a group must fill this share of a bucket to target it")
    questions: int = Field(default=4, ge=0, description="closing questions per megadoc")
    cross_refs_per_part: int = Field(default=2, ge=0)
    stitch_rephrasings: int = Field(default=3, ge=1, description="K in Kim et al.'s stitch")
    chunk_chars: int = Field(default=6000, ge=200,
                             description="largest piece sent to the generator in one request")


class ParaphraseConfig(BaseModel):
    """Paraphrase-retrieval QA: quote (or paraphrase) the evidence, then answer."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    samples_per_bucket: int = Field(default=8, ge=0)
    buckets: list[PositiveInt] | None = None
    answer: Literal["quote", "paraphrase"] = "quote"
    passage_min_chars: int = Field(default=40, ge=10)
    passage_max_chars: int = Field(default=400, ge=20)
    families: dict[QuestionFamily, float] = Field(
        default_factory=default_family_shares,
        description="share of each bucket's samples per question family; a family whose "
                    "rows (code, books, runs with links or outcomes) are absent gets none "
                    "and the others share its samples")
    model_families: list[QuestionFamily] | None = Field(
        default=None, description="families a model (backend 'openai') rewrites, with the "
                                  "offline answer as the reference; None: all of them")

    @model_validator(mode="after")
    def _some_family(self) -> ParaphraseConfig:
        if any(v < 0 for v in self.families.values()):
            raise ValueError("paraphrase.families: shares must not be negative")
        if self.enabled and not any(v > 0 for v in self.families.values()):
            raise ValueError("paraphrase.families: at least one family needs a share above 0")
        return self


class TasksConfig(BaseModel):
    """RULER-style synthetic retrieval tasks over haystacks from the corpus."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    families: list[TaskFamily] = Field(default_factory=lambda: list(TASK_FAMILIES), min_length=1)
    value_types: list[ValueType] = Field(default_factory=lambda: ["words", "numbers", "uuids"],
                                         min_length=1)
    samples_per_bucket: int = Field(default=4, ge=0, description="per family and bucket")
    buckets: list[PositiveInt] | None = None
    needles: int = Field(default=4, ge=2, description="keys/values/queries in multi-needle tasks")
    variable_hops: int = Field(default=4, ge=1)
    common_words: int = Field(default=10, ge=1)
    frequent_words: int = Field(default=3, ge=1)


class GeneratorConfig(BaseModel):
    """Who writes questions and paraphrases: the offline extractive one or an HTTP model."""

    model_config = ConfigDict(extra="forbid")

    backend: Literal["offline", "openai"] = "offline"
    base_url: str | None = Field(default=None, description="e.g. http://127.0.0.1:8000/v1")
    model: str | None = None
    api_key_env: str | None = Field(default=None, description="environment variable with the key")
    max_concurrency: int = Field(default=4, ge=1)
    timeout_s: float = Field(default=120.0, gt=0)
    max_retries: int = Field(default=4, ge=0)
    backoff_s: float = Field(default=1.0, ge=0)
    max_backoff_s: float = Field(default=30.0, ge=0)
    temperature: float = Field(default=0.0, ge=0)
    max_tokens: int = Field(default=1024, ge=1)
    cache_dir: str | None = Field(default=None, description="on-disk response cache")
    prompt_price_per_1k: float = Field(default=0.0, ge=0)
    completion_price_per_1k: float = Field(default=0.0, ge=0)

    @model_validator(mode="after")
    def _http_needs_endpoint(self) -> GeneratorConfig:
        if self.backend == "openai":
            if not self.base_url:
                raise ValueError("base_url: required when backend is 'openai'")
            if not self.model:
                raise ValueError("model: required when backend is 'openai'")
        return self


class SynthesizeConfig(BaseModel):
    """Synthesis settings; with everything off the stage passes documents through."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    source: str = Field(default="synthetic", pattern=r"^[A-Za-z0-9_.-]+$",
                        description="source name of the synthetic documents")
    chars_per_token: float = Field(default=4.0, gt=0,
                                   description="length estimate when no tokenizer is given")
    grouping: GroupingConfig = GroupingConfig()
    megadocs: MegadocConfig = MegadocConfig()
    paraphrase: ParaphraseConfig = ParaphraseConfig()
    tasks: TasksConfig = TasksConfig()
    generator: GeneratorConfig = GeneratorConfig()

    @model_validator(mode="after")
    def _modes_need_a_model(self) -> SynthesizeConfig:
        offline = self.generator.backend == "offline"
        if offline and self.megadocs.mode != "concat":
            raise ValueError(f"megadocs.mode: {self.megadocs.mode!r} rewrites text and needs "
                             "generator.backend 'openai'; the offline generator cannot paraphrase")
        if offline and self.paraphrase.answer == "paraphrase":
            raise ValueError("paraphrase.answer: 'paraphrase' needs generator.backend 'openai'")
        return self

    @property
    def active(self) -> bool:
        """True when the stage will build anything at all."""
        return self.enabled and (self.megadocs.enabled or self.paraphrase.enabled
                                 or self.tasks.enabled)
