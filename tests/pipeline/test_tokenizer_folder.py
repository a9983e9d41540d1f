"""The output folder is a Hugging Face tokenizer folder: AutoTokenizer loads it offline with
the specials the packer used."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from longweave.pipeline.packing.manifest import hf_special_tokens, write_tokenizer_folder
from longweave.pipeline.packing.tokenizer import train_bpe
from longweave.schemas import layout
from longweave.schemas.recipe import Recipe, load_recipe

TEXTS = ["the quick brown fox jumps over the lazy dog", "a long context needs long data"] * 20


def recipe(**tokenizer: object) -> Recipe:
    demo = load_recipe(str(resources.files("longweave.recipes").joinpath("demo.yaml")))
    return demo.model_copy(update={"tokenizer": demo.tokenizer.model_copy(update=tokenizer)})


def test_specials_follow_the_recipe() -> None:
    tokenizer = train_bpe(TEXTS, vocab_size=300, min_frequency=1)
    assert hf_special_tokens(tokenizer, recipe(bos=True, eos=True)) == {
        "bos_token": "<|bos|>", "eos_token": "<|endoftext|>", "pad_token": "<|pad|>"}
    assert hf_special_tokens(tokenizer, recipe(bos=False, eos=True)) == {
        "eos_token": "<|endoftext|>", "pad_token": "<|pad|>"}


def test_auto_tokenizer_loads_the_output_folder(tmp_path: Path) -> None:
    transformers = pytest.importorskip("transformers")
    tokenizer = train_bpe(TEXTS, vocab_size=300, min_frequency=1)
    chosen = recipe(bos=True, eos=True)
    write_tokenizer_folder(str(tmp_path), tokenizer.to_str(), chosen)
    assert json.loads((tmp_path / layout.SPECIAL_TOKENS_FILE).read_text())["pad_token"] == "<|pad|>"
    loaded = transformers.AutoTokenizer.from_pretrained(str(tmp_path), local_files_only=True)
    assert isinstance(loaded, transformers.PreTrainedTokenizerFast)
    assert (loaded.eos_token, loaded.bos_token, loaded.pad_token) == (
        "<|endoftext|>", "<|bos|>", "<|pad|>")
    assert (loaded.eos_token_id, loaded.pad_token_id) == (
        tokenizer.token_to_id("<|endoftext|>"), tokenizer.token_to_id("<|pad|>"))
    assert loaded.model_max_length == max(chosen.buckets)
    text = "the lazy fox needs long data"
    assert loaded(text, add_special_tokens=False)["input_ids"] == tokenizer.encode(text).ids
    assert loaded.decode(tokenizer.encode(text).ids) == text
