"""Loading the recipe's tokenizer, or training a byte-level BPE when it names none."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from longweave.schemas import fs
from longweave.schemas.layout import TOKENIZER_FILE
from longweave.schemas.recipe_pack import TokenizerConfig

TRAINED_SPECIALS = ("<|endoftext|>", "<|bos|>", "<|pad|>")
EOS_CANDIDATES = ("<|endoftext|>", "</s>", "<eos>", "<|end_of_text|>", "<|eot_id|>", "[SEP]")
BOS_CANDIDATES = ("<|bos|>", "<s>", "<bos>", "<|begin_of_text|>", "[CLS]")
PAD_CANDIDATES = ("<|pad|>", "<pad>", "[PAD]")


class TokenizerError(ValueError):
    """The configured tokenizer cannot be loaded or lacks a token the recipe needs."""


def resolve_tokenizer_json(config: TokenizerConfig) -> str | None:
    """The tokenizer.json the recipe names (file, folder, or hub id via the HF cache)."""
    if config.path:
        path = config.path
        if fs.is_local(path) and os.path.isdir(path):
            path = os.path.join(path, TOKENIZER_FILE)
        if not fs.exists(path):
            raise TokenizerError(f"tokenizer.path: no tokenizer.json at {path}")
        return path
    if config.hub_id:
        from huggingface_hub import hf_hub_download  # network only when the user asks

        return hf_hub_download(config.hub_id, TOKENIZER_FILE)
    return None


def train_bpe(texts: Iterable[str], vocab_size: int, min_frequency: int) -> Tokenizer:
    """A byte-level BPE (GPT-2 style) trained on `texts`, with EOS, BOS and PAD specials."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=min_frequency, show_progress=False,
        special_tokens=list(TRAINED_SPECIALS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return tokenizer


def tokenizer_hash(tokenizer_json: str) -> str:
    return hashlib.sha256(tokenizer_json.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class SpecialIds:
    """Token ids the packer inserts: BOS/EOS per the recipe, PAD for row tails."""

    bos: int | None
    eos: int | None
    pad: int


def _first_id(tokenizer: Tokenizer, candidates: tuple[str, ...]) -> int | None:
    for token in candidates:
        token_id = tokenizer.token_to_id(token)
        if token_id is not None:
            return token_id
    return None


def special_ids(tokenizer: Tokenizer, config: TokenizerConfig,
                pad_override: int | None = None) -> SpecialIds:
    eos = _first_id(tokenizer, EOS_CANDIDATES)
    bos = _first_id(tokenizer, BOS_CANDIDATES)
    if config.eos and eos is None:
        raise TokenizerError(f"tokenizer.eos: the tokenizer has none of {EOS_CANDIDATES}")
    if config.bos and bos is None:
        raise TokenizerError(f"tokenizer.bos: the tokenizer has none of {BOS_CANDIDATES}")
    pad = pad_override if pad_override is not None else _first_id(tokenizer, PAD_CANDIDATES)
    if pad is None:
        pad = eos if eos is not None else 0
    return SpecialIds(bos=bos if config.bos else None, eos=eos if config.eos else None, pad=pad)

