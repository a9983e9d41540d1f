"""The recipe: one YAML file that fully determines a run, validated before any work starts."""

from __future__ import annotations

import hashlib
import json
import os
import re
import string
import sysconfig
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from longweave.schemas.recipe_filters import DedupeConfig, FilterConfig
from longweave.schemas.recipe_pack import (
    BudgetConfig,
    MixtureEntry,
    OutputConfig,
    TokenizerConfig,
    check_buckets,
)
from longweave.schemas.recipe_sources import SOURCE_OPTIONS
from longweave.schemas.recipe_synth import SynthesizeConfig


class RecipeError(ValueError):
    """A recipe that cannot run; the message names the offending key."""


class SourceSpec(BaseModel):
    """One named input: its kind, where it lives, and kind-specific options."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    kind: str
    paths: list[str] = Field(min_length=1)
    options: dict[str, Any] = Field(default_factory=dict)
    license: str | None = Field(
        default=None, description="the license of every document of this source whose own "
                                  "record states none (an SPDX id): publish's dataset card")

    @field_validator("paths", mode="before")
    @classmethod
    def _one_path(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    def parsed_options(self) -> BaseModel:
        """The options validated by the kind's own model (already checked at load time)."""
        return SOURCE_OPTIONS[self.kind].model_validate(self.options)


class RunnerConfig(BaseModel):
    """Beam runner options; the same recipe runs on Direct, Dataflow, Flink or Spark."""

    model_config = ConfigDict(extra="forbid")

    runner: str = "DirectRunner"
    direct_num_workers: int = Field(default=0, ge=0, description="0: one per CPU core")
    direct_running_mode: Literal["in_memory", "multi_threading", "multi_processing"] = (
        "multi_processing")
    options: dict[str, Any] = Field(default_factory=dict,
                                    description="further Beam pipeline options, by name")
    stall_seconds: float = Field(
        default=600.0, ge=0, description="fail a stage whose workers finish no element for "
                                         "this long (a hung worker), so --retries can act; "
                                         "0: never (DirectRunner only: the driver watches)")


class Recipe(BaseModel):
    """Everything a run needs; see recipes/demo.yaml for a walked-through example."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    seed: int = 0
    sources: list[SourceSpec] = Field(min_length=1)
    filters: FilterConfig = FilterConfig()
    dedupe: DedupeConfig = DedupeConfig()
    synthesize: SynthesizeConfig = SynthesizeConfig()
    tokenizer: TokenizerConfig = TokenizerConfig()
    buckets: list[PositiveInt]
    bucket_policy: Literal["spread", "smallest"] = Field(
        default="spread", description="smallest bucket that fits, or spread over those that fit")
    mixture: list[MixtureEntry] = Field(default_factory=list)
    budget: BudgetConfig = BudgetConfig()
    output: OutputConfig = OutputConfig()
    runner: RunnerConfig = RunnerConfig()
    # the folder the recipe file is in: its relative paths were anchored there, and
    # `portable_recipe` writes them back relative to it (not part of the recipe's hash)
    _recipe_dir: Path | None = PrivateAttr(default=None)

    @field_validator("buckets")
    @classmethod
    def _buckets(cls, value: list[int]) -> list[int]:
        return check_buckets(value)

    @model_validator(mode="after")
    def _cross_checks(self) -> Recipe:
        specials = int(self.tokenizer.bos) + int(self.tokenizer.eos)
        for i, bucket in enumerate(self.buckets):
            if bucket <= specials + 1:
                raise _keyed(f"buckets[{i}]", f"a bucket of {bucket} tokens cannot hold a "
                             f"document: it must be larger than the {specials} BOS/EOS "
                             f"token(s) of every piece plus one")
        names = [s.name for s in self.sources]
        for i, name in enumerate(names):
            if names.index(name) != i:
                raise _keyed(f"sources[{i}].name", f"source name {name!r} is used twice")
        if self.synthesize.active:
            names = [*names, self.synthesize.source]  # synthetic documents are mixable too
        for i, entry in enumerate(self.mixture):
            if entry.source not in names:
                raise _keyed(f"mixture[{i}].source",
                             f"unknown source {entry.source!r}; sources are {names}")
            if entry.bucket is not None and entry.bucket not in self.buckets:
                raise _keyed(f"mixture[{i}].bucket",
                             f"{entry.bucket} is not one of the buckets {self.buckets}")
        if self.mixture:
            total = sum(e.share for e in self.mixture)
            if abs(total - 1.0) > 1e-6:
                last = len(self.mixture) - 1
                raise _keyed(f"mixture[{last}].share",
                             f"mixture shares sum to {total:.6g}, not 1")
        return self

    @property
    def recipe_hash(self) -> str:
        return hashlib.sha256(
            json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()[:16]

    def source(self, name: str) -> SourceSpec:
        for spec in self.sources:
            if spec.name == name:
                return spec
        raise KeyError(name)


def _keyed(key: str, message: str) -> ValueError:
    """A cross-field error whose message starts with its dotted key."""
    return ValueError(f"{key}: {message}")


def format_location(loc: tuple[Any, ...]) -> str:
    """('mixture', 2, 'share') -> 'mixture[2].share'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "<recipe>"


def _format_validation_error(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        message = item["msg"]
        # Cross-field checks carry their own key inside the message.
        match = re.match(r"Value error, (\S+): (.*)", message, re.S)
        if match and not item["loc"]:
            lines.append(f"{match.group(1)}: {match.group(2)}")
            continue
        message = message.removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        lines.append(f"{format_location(tuple(item['loc']))}: {message}")
    return "\n".join(lines)


def path_placeholders(recipe_dir: Path) -> dict[str, str]:
    """Names usable as `${name}` in recipe paths, so one recipe runs on any machine."""
    paths = sysconfig.get_paths()
    return {
        "recipe_dir": str(recipe_dir),
        "stdlib": paths["stdlib"],
        "site_packages": paths["purelib"],
    }


def expand_placeholders(value: str, placeholders: dict[str, str]) -> str:
    """Replace `${name}` (or `$name`) by a placeholder or, failing that, an environment
    variable. `string.Template` syntax, so `$$` is a literal `$`; an unknown name raises
    `KeyError(name)`, a `$` that starts no name `ValueError`."""
    return string.Template(value).substitute({**os.environ, **placeholders})


def is_remote(path: str) -> bool:
    return "://" in path


def portable_path(path: str, recipe_dir: Path | None) -> str:
    """A resolved local path written back as a recipe would: `${stdlib}/...` and
    `${site_packages}/...` under those roots, else relative to the recipe's folder; remote
    and relative paths pass through. What a shared card or manifest shows instead of this
    machine's absolute install paths. A path that shares no folder with the recipe's but
    the root (`../../../srv/x`) would spell out this machine's tree: its name alone shows."""
    if is_remote(path) or not os.path.isabs(path):
        return path
    roots = path_placeholders(recipe_dir or Path("/"))
    del roots["recipe_dir"]
    for name, root in sorted(roots.items(), key=lambda item: -len(item[1])):
        root = root.rstrip("/")
        if path == root or path.startswith(root + "/"):
            return f"${{{name}}}{path[len(root):]}"
    if recipe_dir is None or os.path.commonpath([path, str(recipe_dir)]) == os.sep:
        return os.path.basename(path)
    return os.path.relpath(path, recipe_dir)


def portable_recipe(recipe: Recipe) -> dict[str, Any]:
    """The recipe as JSON with every path it names made portable (see `portable_path`)."""
    return portable_paths(recipe.model_dump(mode="json"), recipe._recipe_dir)


def portable_paths(recipe_json: dict[str, Any], where: Path | None) -> dict[str, Any]:
    """A copy of a recipe's JSON with its paths made portable against the folder `where`
    (unknown for a recipe read back from a manifest: then only placeholders and names)."""
    data = json.loads(json.dumps(recipe_json))
    for spec in data.get("sources", []):
        spec["paths"] = [portable_path(p, where) for p in spec["paths"]]
    tokenizer = data.get("tokenizer", {})
    if tokenizer.get("path"):
        tokenizer["path"] = portable_path(tokenizer["path"], where)
    generator = data.get("synthesize", {}).get("generator", {})
    if generator.get("cache_dir"):
        generator["cache_dir"] = portable_path(generator["cache_dir"], where)
    return data


def _check_paths(recipe: Recipe) -> None:
    """Every local input path (or glob) must name something that exists."""
    import glob as globlib

    for i, spec in enumerate(recipe.sources):
        for j, path in enumerate(spec.paths):
            if is_remote(path):
                continue
            exists = globlib.glob(path, recursive=True) if globlib.has_magic(path) else (
                os.path.exists(path))
            if not exists:
                raise RecipeError(f"sources[{i}].paths[{j}]: path does not exist: {path}")
    tok = recipe.tokenizer.path
    if tok and not is_remote(tok) and not os.path.exists(tok):
        raise RecipeError(f"tokenizer.path: path does not exist: {tok}")


def refuse_bool_numbers(raw: Any, validated: Any, key: str) -> None:
    """Refuse a YAML `true`/`false` that validation turned into a number.

    Pydantic's lax mode reads `true` as 1 for an int or float field, so `buckets: [true]`
    would become a one-token bucket. Walking the input beside the validated model catches
    it for every section at once, whatever model declares the field: a bool in the input
    whose validated value is no longer a bool was read as a number.
    """
    if isinstance(raw, bool):
        if not isinstance(validated, bool) and isinstance(validated, int | float):
            raise RecipeError(f"{key or '<recipe>'}: {str(raw).lower()} is a yes/no value, "
                              f"not a number; write the number")
        return
    if isinstance(raw, dict) and isinstance(validated, dict):
        for name, value in raw.items():
            if name in validated:
                refuse_bool_numbers(value, validated[name],
                                    f"{key}.{name}" if key else str(name))
    elif isinstance(raw, list) and isinstance(validated, list | tuple):
        if len(raw) == len(validated):
            for i, (value, checked) in enumerate(zip(raw, validated, strict=True)):
                refuse_bool_numbers(value, checked, f"{key}[{i}]")


def _check_source_options(recipe: Recipe) -> None:
    for i, spec in enumerate(recipe.sources):
        if spec.kind not in SOURCE_OPTIONS:
            raise RecipeError(
                f"sources[{i}].kind: unknown source kind {spec.kind!r}; "
                f"known: {sorted(SOURCE_OPTIONS)}")
        try:
            options = spec.parsed_options()
        except ValidationError as error:
            detail = _format_validation_error(error)
            raise RecipeError("\n".join(
                f"sources[{i}].options.{line}" for line in detail.splitlines())) from None
        refuse_bool_numbers(spec.options, options.model_dump(mode="python"),
                            f"sources[{i}].options")


def _resolve_paths(recipe: Recipe, recipe_dir: Path) -> None:
    """Expand placeholders in every path the recipe names and anchor relative ones at
    `recipe_dir`, explicitly: loading a recipe never changes the process's working folder."""
    placeholders = path_placeholders(recipe_dir)

    def resolve(key: str, path: str) -> str:
        try:
            path = expand_placeholders(path, placeholders)
        except KeyError as missing:
            raise RecipeError(f"{key}: unknown placeholder ${{{missing.args[0]}}}") from None
        except ValueError as error:
            raise RecipeError(f"{key}: {error} (write $$ for a literal $)") from None
        return path if is_remote(path) or os.path.isabs(path) else str(recipe_dir / path)

    for i, spec in enumerate(recipe.sources):
        spec.paths = [resolve(f"sources[{i}].paths[{j}]", p) for j, p in enumerate(spec.paths)]
    if recipe.tokenizer.path:
        recipe.tokenizer.path = resolve("tokenizer.path", recipe.tokenizer.path)
    generator = recipe.synthesize.generator
    if generator.cache_dir:
        generator.cache_dir = resolve("synthesize.generator.cache_dir", generator.cache_dir)


def parse_recipe(data: Any, recipe_dir: Path) -> Recipe:
    """Validate a recipe already loaded from YAML; raises `RecipeError` naming the key.

    Paths come back absolute (or remote): relative ones mean "next to the recipe".
    """
    if not isinstance(data, dict):
        raise RecipeError("<recipe>: a recipe is a mapping of sections")
    try:
        recipe = Recipe.model_validate(data)
    except ValidationError as error:
        raise RecipeError(_format_validation_error(error)) from None
    refuse_bool_numbers(data, recipe.model_dump(mode="python"), "")
    _resolve_paths(recipe, recipe_dir.resolve())
    recipe._recipe_dir = recipe_dir.resolve()
    _check_source_options(recipe)
    _check_paths(recipe)
    return recipe


def load_recipe(path: str | os.PathLike[str]) -> Recipe:
    """Read and validate a recipe file. Relative paths in it resolve against its folder."""
    file = Path(path)
    if not file.is_file():
        raise RecipeError(f"<recipe>: no such recipe file: {file}")
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise RecipeError(f"<recipe>: {file} is not valid YAML: {error}") from None
    return parse_recipe(data, file.resolve().parent)
