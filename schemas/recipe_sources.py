"""Recipe `sources[].options`: one model per source kind, validated with the recipe.

They live here, beside the recipe model, so validating a recipe never imports a reader
(readers pull in tree-sitter, datasets, jinja...); each reader imports its model from here.
"""

from __future__ import annotations

import codecs
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# -- text ------------------------------------------------------------------------------------
TEXT_SUFFIXES = (".txt", ".md", ".rst", ".jsonl", ".parquet")


class TextOptions(BaseModel):
    """Where the text and metadata live in JSONL / Parquet records."""

    model_config = ConfigDict(extra="forbid")

    text_field: str = "text"
    id_field: str | None = Field(default=None, description="record field used in the locator")
    meta_fields: list[str] = Field(default_factory=list)
    suffixes: list[str] = Field(default_factory=lambda: list(TEXT_SUFFIXES))
    encoding_errors: str = Field(default="replace", pattern="^(strict|replace)$")


# -- book ------------------------------------------------------------------------------------
EPUB_SUFFIXES = (".epub",)
BOOK_RECORD_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.zst", ".parquet", ".arrow")
BOOK_SUFFIXES = (".txt", ".txt.gz", ".txt.zst", *EPUB_SUFFIXES, *BOOK_RECORD_SUFFIXES)
HUB_PREFIX = "hf://"  # a book path `hf://<dataset id>` names a Hugging Face dataset


class BookOptions(BaseModel):
    """How to find books, where records keep their text and metadata, and what to clean.

    A path `hf://<dataset id>` is loaded with `datasets.load_dataset` (needs network unless
    the id is a local folder or the dataset is cached); other paths are files, folders or
    globs, one locator per file (a JSONL / Parquet / Arrow file holds many books).
    """

    model_config = ConfigDict(extra="forbid")

    suffixes: list[str] = Field(default_factory=lambda: list(BOOK_SUFFIXES))
    text_field: str = "text"
    id_field: str | None = Field(default=None, description="record field used in the id")
    title_field: str | None = "title"
    author_field: str | None = "author"
    meta_fields: list[str] = Field(default_factory=list, description="record fields to keep")
    encoding: str | None = Field(default=None, description="force a codec; None: detect")
    strip_gutenberg: bool = True
    drop_production_notes: bool = True
    detect_chapters: bool = True
    reflow: bool = Field(default=False, description="join hard-wrapped prose lines")
    min_chars: int = Field(default=1, ge=0, description="shorter books are rejected")
    max_file_bytes: int = Field(default=256 * 1024 * 1024, gt=0,
                                description="cap on a file's (decompressed) size")
    epub_max_entries: int = Field(default=10_000, gt=0)
    epub_max_expanded_bytes: int = Field(default=512 * 1024 * 1024, gt=0)
    hub_split: str = "train"
    hub_config: str | None = None
    hub_streaming: bool = True

    @field_validator("encoding")
    @classmethod
    def _known_codec(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"unknown encoding {value!r}") from None
        return value

    @field_validator("suffixes")
    @classmethod
    def _dotted(cls, value: list[str]) -> list[str]:
        for suffix in value:
            if not suffix.startswith("."):
                raise ValueError(f"suffix {suffix!r} must start with a dot")
        return value


# -- repo ------------------------------------------------------------------------------------
# Source files the resolvers understand, plus common text that belongs with code.
CODE_SUFFIXES: tuple[str, ...] = (
    ".py", ".pyi", ".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts",
    ".c", ".h", ".cc", ".cpp", ".cxx", ".hh", ".hpp", ".hxx", ".inl", ".go", ".rs", ".java",
    ".kt", ".scala", ".rb", ".php", ".cs", ".swift", ".m", ".sh", ".lua", ".sql",
)


class RepoOptions(BaseModel):
    """Which inputs are repositories, which of their files are code, how a document looks."""

    model_config = ConfigDict(extra="forbid")

    layout: Literal["single", "subdirs"] = Field(
        default="single", description="a path is one repository, or each subfolder is one")
    include: list[str] = Field(default_factory=list, description="subfolder names to keep")
    exclude: list[str] = Field(default_factory=list, description="subfolder names to skip")
    suffixes: list[str] = Field(default_factory=lambda: list(CODE_SUFFIXES))
    max_file_bytes: int = Field(default=1_000_000, gt=0)
    max_files: int = Field(default=20_000, gt=0, description="selected files per repository")
    max_repo_bytes: int = Field(default=200_000_000, gt=0,
                                description="selected bytes per repository")
    max_archive_members: int = Field(default=200_000, gt=0)
    max_archive_bytes: int = Field(default=2_000_000_000, gt=0,
                                   description="declared uncompressed size of an archive")
    max_skipped_listed: int = Field(default=5_000, ge=0,
                                    description="skipped paths listed in meta (counts are full)")
    respect_gitignore: bool = True
    ref: str | None = Field(default=None, description="git ref for git inputs (default HEAD)")
    include_dirs: list[str] = Field(default_factory=list,
                                    description="extra C/C++ include dirs, repo-relative")
    # Table rows shaped like the-stack: one row per file, grouped into repositories.
    repo_field: str = "repo"
    path_field: str = "path"
    content_field: str = "content"
    # Rendering.
    repo_header: str = Field(default="<repo_name>{repo}\n",
                             description="text before the first file; {repo} is replaced")
    file_header: str = Field(default="<file_sep>{path}\n",
                             description="text before each file; {path} is replaced")
    max_distances_listed: int = Field(default=20_000, ge=0,
                                      description="edges whose distance is listed in meta")


# -- trajectory ------------------------------------------------------------------------------
TurnCategory = Literal["system", "user", "agent", "environment", "demo", "summary"]


class TrajectoryOptions(BaseModel):
    """How sessions are selected, cleaned and rendered into documents."""

    model_config = ConfigDict(extra="forbid")

    suffixes: list[str] = Field(default_factory=lambda: [".json", ".jsonl", ".traj"])
    formats: list[str] | None = Field(
        default=None, description="read only these formats (see longweave.sources.trajectories.FORMATS)")
    chat_template: str | None = Field(
        default=None, description="Jinja chat template applied to one message at a time; "
                                  "default: the built-in plain layout")
    loss_off: list[TurnCategory] = Field(
        default_factory=lambda: ["system", "environment", "demo", "summary"],
        description="turns excluded from the loss (emitted as `loss:off` spans)")
    include_demos: bool = True
    include_reasoning: bool = True
    include_summary: bool = True
    include_sidechains: bool = Field(
        default=True, description="emit side chains / sub-agent runs as documents of their own")
    max_observation_chars: int | None = Field(default=20_000, ge=200)
    redact_secrets: bool = True
    min_agent_steps: int = Field(default=1, ge=0)
    outcome: Literal["any", "resolved", "unresolved", "unknown"] = Field(
        default="any", description="keep only sessions with this outcome (`meta.resolved`); "
                                   "the others are excluded with a ledger entry, so one "
                                   "source per outcome is one option")
    evaluation_dirs: list[str] | None = Field(
        default=None, description="folders holding SWE-bench `report.json` files "
                                  "(`<instance_id>.report.json` or `<instance_id>/report.json`) "
                                  "joined by instance id for `meta.resolved`; default: a "
                                  "folder named `_evaluation` beside each file or up to two "
                                  "folders above it")


SOURCE_OPTIONS: dict[str, type[BaseModel]] = {
    "text": TextOptions,
    "repo": RepoOptions,
    "book": BookOptions,
    "trajectory": TrajectoryOptions,
}
"""Options model of every source kind; `sources.registry` maps the same kinds to readers."""
