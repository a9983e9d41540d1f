"""Recipe validation: every bad recipe fails before any work with one message naming the key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from longweave.jobs.cli import demo_recipe_path, main
from longweave.schemas.recipe import RecipeError, load_recipe, parse_recipe
from longweave.schemas.recipe_sources import SOURCE_OPTIONS
from longweave.sources.registry import SOURCE_KINDS

BASE = {
    "name": "r",
    "sources": [{"name": "a", "kind": "text", "paths": ["."]},
                {"name": "b", "kind": "text", "paths": ["."]}],
    "buckets": [1024, 4096],
    "mixture": [{"source": "a", "share": 0.5}, {"source": "b", "share": 0.5}],
}


def error_for(**changes) -> str:
    data = yaml.safe_load(yaml.safe_dump(BASE))
    for key, value in changes.items():
        data[key] = value
    with pytest.raises(RecipeError) as info:
        parse_recipe(data, Path("."))
    return str(info.value)


def test_valid_recipe_parses_with_sorted_buckets() -> None:
    data = dict(BASE, buckets=[4096, 1024])
    recipe = parse_recipe(data, Path("."))
    assert recipe.buckets == [1024, 4096]


def test_unknown_key_is_named() -> None:
    assert error_for(colour="blue") == "colour: unknown key"


def test_wrong_type_is_named() -> None:
    assert error_for(seed="many").startswith("seed: ")


def test_bucket_not_positive_int() -> None:
    assert error_for(buckets=[1024, -5]).startswith("buckets[1]: ")
    assert error_for(buckets=[1024, "big"]).startswith("buckets[1]: ")


def test_shares_must_sum_to_one() -> None:
    message = error_for(mixture=[{"source": "a", "share": 0.5}, {"source": "b", "share": 0.2}])
    assert message.startswith("mixture[1].share: ") and "0.7" in message


def test_mixture_names_unknown_source() -> None:
    message = error_for(mixture=[{"source": "a", "share": 0.5}, {"source": "zz", "share": 0.5}])
    assert message.startswith("mixture[1].source: unknown source 'zz'")


def test_missing_path_is_named() -> None:
    sources = [{"name": "a", "kind": "text", "paths": [".", "/no/such/place"]}]
    message = error_for(sources=sources, mixture=[])
    assert message == "sources[0].paths[1]: path does not exist: /no/such/place"


def test_source_options_are_checked_by_their_kind() -> None:
    sources = [{"name": "a", "kind": "text", "paths": ["."], "options": {"txt_field": "x"}}]
    assert error_for(sources=sources, mixture=[]) == "sources[0].options.txt_field: unknown key"


def test_every_source_kind_has_an_options_model() -> None:
    assert set(SOURCE_OPTIONS) == set(SOURCE_KINDS)


def test_validating_a_recipe_imports_no_reader() -> None:
    """schemas sits below sources: the recipe checks options without loading any reader."""
    code = ("import sys; from longweave.schemas.recipe import load_recipe; "
            "load_recipe(sys.argv[1]); "
            "print([m for m in sys.modules if m.startswith('longweave.sources')])")
    out = subprocess.run([sys.executable, "-c", code, str(demo_recipe_path())],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_unknown_source_kind() -> None:
    sources = [{"name": "a", "kind": "videos", "paths": ["."]}]
    assert error_for(sources=sources, mixture=[]).startswith("sources[0].kind: unknown source")


def test_placeholders_expand_and_relative_paths_resolve(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    recipe_file = tmp_path / "r.yaml"
    recipe_file.write_text(yaml.safe_dump({
        "name": "r", "buckets": [64],
        "sources": [{"name": "a", "kind": "repo", "paths": ["${stdlib}"]},
                    {"name": "b", "kind": "text", "paths": ["data"]}]}))
    recipe = load_recipe(recipe_file)
    assert Path(recipe.sources[0].paths[0], "json", "__init__.py").exists()
    assert recipe.sources[1].paths == [str(tmp_path / "data")]


def test_unknown_placeholder_is_named() -> None:
    sources = [{"name": "a", "kind": "text", "paths": [".", "${nowhere_at_all}/x"]}]
    message = error_for(sources=sources, mixture=[])
    assert message == "sources[0].paths[1]: unknown placeholder ${nowhere_at_all}"
    assert error_for(tokenizer={"path": "${nope}/tokenizer.json"}) == (
        "tokenizer.path: unknown placeholder ${nope}")
    assert error_for(tokenizer={"path": "a$"}).startswith("tokenizer.path: Invalid placeholder")


def test_dollar_dollar_is_a_literal_dollar(tmp_path: Path) -> None:
    (tmp_path / "$x").mkdir()
    data = {"name": "r", "buckets": [64],
            "sources": [{"name": "a", "kind": "text", "paths": "$$x"}]}
    assert parse_recipe(data, tmp_path).sources[0].paths == [str(tmp_path / "$x")]


def test_relative_paths_do_not_depend_on_the_working_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "recipes"
    (folder / "data").mkdir(parents=True)
    for name in ("a.txt", "b.txt"):
        (folder / "data" / name).write_text("text")
    (folder / "tok.json").write_text("{}")
    recipe_file = folder / "r.yaml"
    recipe_file.write_text(yaml.safe_dump({
        "name": "r", "buckets": [64],
        "sources": [{"name": "a", "kind": "text", "paths": ["data/*.txt", "data/a.txt"]}],
        "tokenizer": {"path": "tok.json"},
        "synthesize": {"generator": {"cache_dir": "cache"}}}))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def load_from(cwd: Path, path: Path) -> dict:
        monkeypatch.chdir(cwd)
        with monkeypatch.context() as patched:  # not even a chdir that is undone afterwards
            patched.setattr(os, "chdir", lambda _: pytest.fail("loading calls os.chdir"))
            recipe = load_recipe(path)
        assert Path.cwd() == cwd
        return {"paths": recipe.sources[0].paths, "tokenizer": recipe.tokenizer.path,
                "cache": recipe.synthesize.generator.cache_dir, "hash": recipe.recipe_hash}

    beside = load_from(folder, recipe_file)
    assert beside["paths"] == [str(folder / "data" / "*.txt"), str(folder / "data" / "a.txt")]
    assert beside["tokenizer"] == str(folder / "tok.json")
    assert beside["cache"] == str(folder / "cache")
    assert load_from(elsewhere, recipe_file) == beside  # globs too resolve next to the recipe
    assert load_from(tmp_path, Path("recipes", "r.yaml")) == beside


def test_cli_exits_non_zero_with_the_key(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(dict(BASE, buckets=[0])))
    assert main(["run", str(bad), "--workdir", str(tmp_path / "w")]) == 2
    assert "buckets[0]: " in capsys.readouterr().err
    assert not (tmp_path / "w").exists()  # failed before any work


def test_demo_recipe_is_valid() -> None:
    recipe = load_recipe(demo_recipe_path())
    assert {s.kind for s in recipe.sources} >= {"repo", "text"}
    assert abs(sum(e.share for e in recipe.mixture) - 1) < 1e-9


def test_shortfall_tolerances_default_strict_and_are_range_checked() -> None:
    recipe = parse_recipe(BASE, Path("."))
    assert recipe.budget.min_share_ratio == 0.9 and recipe.budget.allow_empty_buckets is False
    assert error_for(budget={"min_share_ratio": 1.5}).startswith("budget.min_share_ratio: ")
    assert error_for(budget={"allow_empty_bucket": True}) == "budget.allow_empty_bucket: unknown key"


def test_shipped_recipes_keep_the_default_share_tolerance() -> None:
    """The plan's gap fill lands whole synthetic samples and agent sessions on their small
    targets, so no shipped recipe needs to relax min_share_ratio."""
    for name in ("demo.yaml", "books-and-agents.yaml"):
        data = yaml.safe_load((Path(demo_recipe_path()).parent / name).read_text())
        assert "min_share_ratio" not in data["budget"]


def test_portable_paths_use_placeholders_then_the_recipe_folder() -> None:
    import sysconfig

    from longweave.schemas.recipe import portable_path

    site = sysconfig.get_paths()["purelib"]
    here = Path("/data/recipes")
    assert portable_path(site + "/yaml", here) == "${site_packages}/yaml"
    assert portable_path("/data/recipes/samples/a.jsonl", here) == "samples/a.jsonl"
    assert portable_path("/data/corpus/books", here) == "../corpus/books"
    assert portable_path("/srv/x/y/z/books", here) == "books"  # far above: the name only
    assert portable_path("gs://bucket/books", here) == "gs://bucket/books"
    assert portable_path("/data/corpus/books", None) == "books"
