"""The trainer-facing loader checks each shard's sha256 against the manifest as it opens
it (issue 18): a changed shard is an error naming it, not different training data."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_fixture import build_output

from longweave.pipeline.packing.loader import LoaderError, PackedLoader
from longweave.schemas.packed import Manifest


def test_a_changed_shard_is_refused_on_open(tmp_path: Path) -> None:
    out = build_output(tmp_path / "pack")
    shard = Manifest.read(str(out)).shards[0]
    intact = list(PackedLoader(str(out), shard.bucket).rows())
    assert intact
    path = out / shard.path
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(LoaderError, match=f"{shard.path}: sha256 .* manifest"):
        list(PackedLoader(str(out), shard.bucket).rows())
