"""The trainer-facing reader of an output folder: one bucket's rows for one rank, resumable.

It needs pyarrow and numpy only: nothing on its import chain imports apache_beam (a trainer
should not install a data pipeline to read its data), and reading a local folder never
touches Beam at run time either. A remote folder (gs://, s3://) is read through Beam's
FileSystems, imported on first use, as every other reader in longweave does.

Each row it yields is a dict of numpy arrays, the packed-sequence convention of Hugging Face
transformers (`DataCollatorWithFlattening`):

- `input_ids` int64 [L], the row as stored (exactly the bucket length `L`);
- `labels` int64 [L]: `labels[i] = input_ids[i]`, *unshifted* (the model shifts: logits at
  `i` predict `labels[i + 1]`), except -100 at each segment's first token (so no document is
  trained to predict the next one's start), where `loss_mask == 0` (`loss:off` spans) and
  on the trailing `<pad>` segment (also when the shard has no `loss_mask` column);
- `position_ids` int64 [L], restarting at 0 at every segment (the pad segment included);
- `cu_seqlens` int32 [S + 1], the FlashAttention varlen boundaries as stored;
- `max_seqlen` int, the longest segment.

Rank sharding is strided, like torch's `DistributedSampler` with `drop_last=True`: rank `r`
of `W` reads the bucket's rows `r, r + W, r + 2W, ...` (manifest order: shards by path, rows
in order), and every rank gets the same `len(loader) = rows // W` rows, so no rank waits at
a collective for a row another has not got; the last `rows % W` rows (`loader.dropped`) are
not read in that epoch. All ranks share one position, so rank 0's `state_dict()` resumes
every rank.

Each shard's bytes are checked against the manifest's sha256 when the shard is opened
(`verify=False` skips it): a damaged shard is a `LoaderError` naming it, never silently
different training data.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa

from longweave.pipeline.packing.bestfit import position_ids as segment_positions
from longweave.pipeline.packing.shards import ShardHashMismatch, read_shard
from longweave.schemas import fs, layout
from longweave.schemas.packed import PAD_DOC_ID, Manifest

IGNORE_INDEX = -100  # the label PyTorch's cross-entropy (and transformers) leaves out


class LoaderError(ValueError):
    """The folder, bucket, rank or saved position does not describe rows this loader has."""


def read_manifest(out_dir: str) -> Manifest:
    """The output folder's manifest, with an error that names the folder when it is missing."""
    try:
        return Manifest.read(out_dir)
    except FileNotFoundError as error:
        raise LoaderError(f"{out_dir}: no {layout.MANIFEST_FILE}; not a finished pack output "
                          f"(run `longweave run ... --until pack`)") from error


def bucket_sizes(out_dir: str) -> list[int]:
    """The buckets that have rows in this output folder, ascending."""
    return sorted({s.bucket for s in read_manifest(out_dir).shards if s.rows})


def _lists(table: pa.Table, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A list column as (flat values, offsets): row i is `values[offsets[i]:offsets[i + 1]]`."""
    column = table.column(name).combine_chunks()
    return column.values.to_numpy(zero_copy_only=False), column.offsets.to_numpy()


def training_rows(table: pa.Table) -> Iterator[dict[str, Any]]:
    """A shard's rows as training rows (see the module docstring for the label convention)."""
    ids, id_at = _lists(table, "input_ids")
    cus, cu_at = _lists(table, "cu_seqlens")
    mask = _lists(table, "loss_mask") if "loss_mask" in table.column_names else None
    last_docs = [docs[-1] for docs in table.column("doc_ids").to_pylist()]
    for i in range(table.num_rows):
        input_ids = ids[id_at[i]:id_at[i + 1]].astype(np.int64)
        cu = cus[cu_at[i]:cu_at[i + 1]].astype(np.int32)
        labels = input_ids.copy()
        labels[cu[:-1]] = IGNORE_INDEX
        if mask is not None and mask[1][i + 1] > mask[1][i]:  # an empty mask: all count
            labels[mask[0][mask[1][i]:mask[1][i + 1]] == 0] = IGNORE_INDEX
        if last_docs[i] == PAD_DOC_ID:
            labels[cu[-2]:] = IGNORE_INDEX
        yield {"input_ids": input_ids, "labels": labels,
               "position_ids": segment_positions(cu.tolist()).astype(np.int64),
               "cu_seqlens": cu, "max_seqlen": int(np.diff(cu).max())}


class PackedLoader:
    """One bucket's rows for one rank; iterating runs one epoch from the saved position.

    The position (`state_dict()`) is the next row of this rank's share and the epoch. It
    advances as rows are handed out, and after an epoch's last row it is already the next
    epoch's start, so a checkpoint taken at any row resumes exactly after it: no row twice,
    none skipped. A position past the end is an error, never an empty epoch.
    """

    def __init__(self, out_dir: str, bucket: int, rank: int = 0, world_size: int = 1,
                 verify: bool = True) -> None:
        if world_size < 1 or not 0 <= rank < world_size:
            raise LoaderError(f"rank {rank} of world_size {world_size}: need 0 <= rank < "
                              f"world_size")
        manifest = read_manifest(out_dir)
        self.out_dir, self.bucket, self.rank, self.world_size = out_dir, bucket, rank, world_size
        # verify: each shard's sha256 is checked against the manifest as it is opened (one
        # hash of bytes already read whole), so a damaged shard raises instead of training
        self.verify = verify
        self.shards = [(s.path, s.rows) for s in manifest.shards if s.bucket == bucket and s.rows]
        self.hashes = {s.path: s.sha256 for s in manifest.shards}
        self.total_rows = sum(rows for _, rows in self.shards)
        if not self.shards:
            raise LoaderError(f"{out_dir}: bucket {bucket} has no rows; buckets with rows: "
                              f"{sorted({s.bucket for s in manifest.shards if s.rows})}")
        if self.total_rows < world_size:
            raise LoaderError(f"bucket {bucket} has {self.total_rows} rows, fewer than "
                              f"world_size {world_size}: some rank would get none")
        self.dropped = self.total_rows % world_size
        self.next_row, self.epoch = 0, 0

    def __len__(self) -> int:
        """Rows per epoch on this rank (the same on every rank)."""
        return self.total_rows // self.world_size

    def rows(self, start: int = 0) -> Iterator[dict[str, Any]]:
        """This rank's rows from its `start`-th on, without touching the saved position."""
        self._check_start(start)
        wanted = np.arange(start, len(self), dtype=np.int64) * self.world_size + self.rank
        first = 0  # global index of the current shard's first row
        for path, count in self.shards:
            local = wanted[(wanted >= first) & (wanted < first + count)] - first
            first += count
            if local.size:
                table = self._open(path)
                yield from training_rows(table.take(pa.array(local)))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for row in self.rows(self.next_row):
            self.next_row += 1
            if self.next_row == len(self):  # the last row: the position is the next epoch's start
                self.next_row, self.epoch = 0, self.epoch + 1
            yield row

    def _open(self, path: str) -> pa.Table:
        try:
            return read_shard(fs.join(self.out_dir, *path.split("/")),
                              self.hashes[path] if self.verify else None)
        except ShardHashMismatch as error:
            raise LoaderError(f"{error}; `longweave verify` checks the whole folder") from None

    def state_dict(self) -> dict[str, int]:
        """The position to save with a checkpoint (the same on every rank)."""
        return {"bucket": self.bucket, "world_size": self.world_size,
                "epoch": self.epoch, "next_row": self.next_row}

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Resume at a saved position; an error if it was saved for another bucket or world
        size, or lies past the end of this rank's rows."""
        for key in ("bucket", "world_size"):
            if state[key] != getattr(self, key):
                raise LoaderError(f"the saved position is for {key} {state[key]}, this loader "
                                  f"reads {key} {getattr(self, key)}")
        self._check_start(state["next_row"])
        self.next_row, self.epoch = int(state["next_row"]), int(state["epoch"])

    def _check_start(self, start: int) -> None:
        if start < 0:
            raise LoaderError(f"start row {start} is negative")
        if start >= len(self):
            raise LoaderError(
                f"start row {start} is past the end: bucket {self.bucket} has {len(self)} rows "
                f"per rank ({self.total_rows} rows over world_size {self.world_size}); a finished "
                f"epoch's position is the next epoch's row 0")
