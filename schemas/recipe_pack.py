"""Recipe sections for the pack stage: tokenizer, buckets, mixture, budget and output."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt


class TokenizerTraining(BaseModel):
    """How to train a byte-level BPE when the recipe names no tokenizer."""

    model_config = ConfigDict(extra="forbid")

    vocab_size: int = Field(default=8192, ge=260, le=1_000_000)
    sample_chars: int = Field(default=8_000_000, gt=0,
                              description="characters of collected text to train on")
    min_frequency: int = Field(default=2, ge=1)


class TokenizerConfig(BaseModel):
    """Which tokenizer packs the data, and where documents get BOS / EOS tokens."""

    model_config = ConfigDict(extra="forbid")

    path: str | None = Field(default=None, description="tokenizer.json or a HF tokenizer folder")
    hub_id: str | None = Field(default=None, description="resolved through the HF cache")
    train: TokenizerTraining = TokenizerTraining()
    bos: bool = False
    eos: bool = True
    batch_size: int = Field(default=64, ge=1, description="documents per encode_batch call")
    batch_chars: int = Field(
        default=4_000_000, ge=1,
        description="characters per encode_batch call: encoding holds ~400 bytes a token")


class MixtureEntry(BaseModel):
    """A source's share of the output tokens, optionally for one bucket only."""

    model_config = ConfigDict(extra="forbid")

    source: str
    share: float = Field(gt=0, le=1)
    bucket: PositiveInt | None = None
    short_tokens: PositiveInt | None = Field(
        default=None, description="Fu et al. length up-sampling: segments shorter than this ...")
    short_keep: float = Field(
        default=1.0, gt=0, le=1, description="... are kept with this probability")


class BudgetConfig(BaseModel):
    """Total output tokens, how far a small source may be repeated to meet its share, and
    how far the output may fall short of the recipe before the run fails (nothing is lost
    silently: a miss beyond these is an error at pack planning, before any row is packed)."""

    model_config = ConfigDict(extra="forbid")

    tokens: PositiveInt | None = Field(
        default=None, description="None: the largest budget the shares allow within max_epochs")
    max_epochs: float = Field(default=1.0, ge=1.0)
    min_share_ratio: float = Field(
        default=0.9, ge=0, le=1,
        description="an entry whose planned share is under this fraction of its share fails "
        "the run (segments are taken whole, so a small target can land short); 0: never")
    allow_empty_buckets: bool = Field(
        default=False, description="true: a bucket that would get no rows is allowed")


class OutputConfig(BaseModel):
    """Shard layout and the optional columns written beside input_ids and cu_seqlens."""

    model_config = ConfigDict(extra="forbid")

    shard_tokens: PositiveInt = Field(default=16_777_216, description="target tokens per shard")
    compression: Literal["zstd", "lz4", "none"] = "zstd"
    position_ids: bool = False
    loss_mask: bool = True
    pack_group_rows: PositiveInt = Field(
        default=256, description="rows' worth of documents packed together by one worker")
    pad_token_id: int | None = Field(
        default=None, description="pad id for the tail of a row; default: the EOS/pad token")
    shuffle: bool = True


def check_buckets(buckets: list[int]) -> list[int]:
    """Buckets are positive, distinct, and kept in increasing order."""
    if not buckets:
        raise ValueError("at least one bucket is needed")
    if len(set(buckets)) != len(buckets):
        raise ValueError(f"buckets repeat a length: {buckets}")
    return sorted(buckets)

