"""`longweave inspect SHARD [--row N]`: a row decoded, its documents marked, and its stats."""

from __future__ import annotations

import os
from itertools import pairwise

from longweave.pipeline.packing.shards import read_shard
from longweave.schemas import fs
from longweave.schemas.layout import TOKENIZER_FILE
from longweave.schemas.packed import PAD_DOC_ID
from longweave.schemas.tokenizer_file import load_tokenizer


def find_tokenizer(shard_path: str) -> str | None:
    """The tokenizer.json of the output folder that holds the shard (two levels up)."""
    folder = os.path.dirname(os.path.dirname(os.path.abspath(shard_path)))
    candidate = os.path.join(folder, TOKENIZER_FILE)
    return candidate if fs.exists(candidate) else None


def describe_row(shard_path: str, row: int, preview_chars: int = 300) -> str:
    table = read_shard(shard_path)
    if not 0 <= row < table.num_rows:
        raise IndexError(f"{shard_path}: row {row} out of range (0..{table.num_rows - 1})")
    record = table.slice(row, 1).to_pylist()[0]
    tokenizer_file = find_tokenizer(shard_path)
    tokenizer = load_tokenizer(tokenizer_file) if tokenizer_file else None
    cu = record["cu_seqlens"]
    bounds = list(pairwise(cu))
    pad = sum(b - a for (a, b), d in zip(bounds, record["doc_ids"], strict=True)
              if d == PAD_DOC_ID)
    lines = [f"{shard_path} row {row} of {table.num_rows}: bucket {record['bucket']}, "
             f"{len(record['doc_ids'])} segments, fill {1 - pad / len(record['input_ids']):.2%}"]
    mask = record.get("loss_mask")
    for (start, end), doc_id, source in zip(bounds, record["doc_ids"], record["doc_sources"],
                                            strict=True):
        head = f"--- [{start}:{end}) {end - start} tokens  doc {doc_id}  source {source}"
        if mask is not None:
            head += f"  loss on {sum(mask[start:end])}/{end - start}"
        lines.append(head)
        if doc_id == PAD_DOC_ID:
            continue
        if tokenizer is not None:
            text = tokenizer.decode(record["input_ids"][start:end], skip_special_tokens=False)
            if len(text) > 2 * preview_chars:
                text = text[:preview_chars] + f"\n  [... {len(text) - 2 * preview_chars} chars ...]\n" + text[-preview_chars:]
            lines.append(text)
    return "\n".join(lines)
