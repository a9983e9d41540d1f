"""The optional torch layer over `loader.PackedLoader` (`pip install longweave[train]`).

Only a trainer imports this module; nothing else in longweave does, so torch is needed
only by whoever uses it. `collate_packed` returns what transformers'
`DataCollatorWithFlattening(return_flash_attn_kwargs=True)` returns for the same
documents: `input_ids`, `position_ids`, `labels` as int64 [1, N], `cu_seq_lens_q/k` int32
[S + 1] and `max_length_q/k` ints. With flash-attention the model reads the `cu_seq_lens`;
with sdpa or eager, transformers (>= 4.53) builds the per-document causal mask from the
restarting `position_ids` when `attention_mask` is None and no cache is used
(`use_cache=False`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from longweave.pipeline.packing.loader import PackedLoader


class PackedIterableDataset(IterableDataset):
    """One bucket's rows for one rank, with `state_dict()` / `load_state_dict()` to resume.

    The position lives in this process, so use `DataLoader(num_workers=0)` (reading is an
    Arrow IPC file and numpy slices, cheap beside a long-context step); in a worker process
    the trainer's copy of the position would never move, so iterating in one is an error.
    """

    def __init__(self, out_dir: str, bucket: int, rank: int = 0, world_size: int = 1) -> None:
        super().__init__()
        self.loader = PackedLoader(out_dir, bucket, rank, world_size)

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if get_worker_info() is not None:
            raise RuntimeError("PackedIterableDataset keeps its position in the trainer's "
                               "process: use DataLoader(num_workers=0)")
        return iter(self.loader)

    def state_dict(self) -> dict[str, int]:
        return self.loader.state_dict()

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.loader.load_state_dict(state)


def collate_packed(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Rows flattened into one [1, N] sequence, as `DataCollatorWithFlattening` returns it."""
    cu = [np.zeros(1, dtype=np.int64)]
    offset = 0
    for row in rows:
        cu.append(row["cu_seqlens"][1:].astype(np.int64) + offset)
        offset += len(row["input_ids"])
    cu_seq_lens = torch.from_numpy(np.concatenate(cu).astype(np.int32))
    max_length = max(int(row["max_seqlen"]) for row in rows)
    batch = {key: torch.from_numpy(np.concatenate([row[key] for row in rows]))[None, :]
             for key in ("input_ids", "position_ids", "labels")}
    return {**batch, "cu_seq_lens_q": cu_seq_lens, "cu_seq_lens_k": cu_seq_lens.clone(),
            "max_length_q": max_length, "max_length_k": max_length}
