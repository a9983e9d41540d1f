"""What a committed stage holds, and whether it still holds it.

A stage records every file it committed in `stage.json` (relative path, bytes, sha256,
rows for Parquet and JSON lines), so a truncated, bit-flipped, missing or stray file is
found before anything reads it, named with the stage that wrote it, and that stage re-runs.
Three checks of different cost use the one record:

- `sizes_problems`: a listing (a stat per file), cheap enough for every "is it done?";
- `content_problems`: every byte hashed, before a stage reads its upstreams' files;
- `verify_workdir` (`longweave verify WORKDIR`): both for every stage, plus the
  manifest's shard hashes.

Nothing here imports the stage table at module level (it imports the drivers, which
import this module's caller), so `jobs/context.py` can use it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass

from longweave.schemas import fs, layout

CHUNK = 1 << 20
# files a stage writes after its record (the markers themselves)
NOT_RECORDED = frozenset({layout.SUCCESS, layout.STAGE_FILE})


class StageCorrupt(RuntimeError):
    """A committed stage's files no longer match its record; the stage was marked not done."""

    def __init__(self, stage: str, problems: list[str]) -> None:
        self.stage, self.problems = stage, problems
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more"
                                           if len(problems) > 5 else "")
        super().__init__(f"files written by the {stage} stage are damaged: {shown}; "
                         f"{stage} was marked not done and re-runs")


@dataclass(frozen=True)
class Listed:
    path: str  # relative to the stage folder, "/"-separated
    bytes: int


def list_files(folder: str, skip: Iterable[str] = ()) -> list[Listed]:
    """Every file under `folder` with its size, except the markers and the `skip`
    subfolders (another stage's folder nested inside, e.g. `pack/report/`)."""
    skipped = tuple(s.rstrip("/") + "/" for s in skip)
    found: list[Listed] = []
    if fs.is_local(folder):
        root = folder.removeprefix("file://")
        for base, dirs, files in os.walk(root):
            dirs.sort()
            for name in sorted(files):
                full = os.path.join(base, name)
                rel = os.path.relpath(full, root).replace(os.sep, "/")
                found.append(Listed(rel, os.path.getsize(full)))
    else:
        from apache_beam.io.filesystems import FileSystems

        prefix = folder.rstrip("/") + "/"
        for meta in FileSystems.match([prefix + "**"])[0].metadata_list:
            if not meta.path.endswith("/"):
                found.append(Listed(meta.path[len(prefix):], int(meta.size_in_bytes)))
    return sorted((f for f in found if f.path not in NOT_RECORDED
                   and not f.path.startswith(skipped)), key=lambda f: f.path)


def _digest(path: str) -> tuple[str, int]:
    """sha256 and newline count of a file, streamed."""
    digest, lines = hashlib.sha256(), 0
    with fs.open_binary(path) as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            lines += chunk.count(b"\n")
    return digest.hexdigest(), lines


def _parquet_rows(path: str) -> int:
    import pyarrow.parquet as pq

    with fs.open_binary(path) as handle:
        return int(pq.ParquetFile(handle).metadata.num_rows)


def file_record(folder: str, item: Listed) -> dict:
    """One committed file as `stage.json` records it."""
    path = fs.join(folder, *item.path.split("/"))
    sha, lines = _digest(path)
    record: dict = {"path": item.path, "bytes": item.bytes, "sha256": sha}
    if item.path.endswith(".parquet"):
        record["rows"] = _parquet_rows(path)
    elif item.path.endswith(".jsonl"):
        record["rows"] = lines
    return record


def record_files(folder: str, skip: Iterable[str] = ()) -> list[dict]:
    """The record of every file a stage is about to commit (hashed on the driver)."""
    return [file_record(folder, item) for item in list_files(folder, skip)]


def sizes_problems(folder: str, records: list[dict], skip: Iterable[str] = ()) -> list[str]:
    """Missing, stray and resized files: what a listing alone can tell."""
    present = {f.path: f.bytes for f in list_files(folder, skip)}
    problems = []
    for record in records:
        size = present.pop(record["path"], None)
        if size is None:
            problems.append(f"{record['path']}: missing")
        elif size != record["bytes"]:
            problems.append(f"{record['path']}: {size} bytes, recorded {record['bytes']}")
    problems += [f"{path}: not written by this stage (stray file)" for path in sorted(present)]
    return problems


def content_problems(folder: str, records: list[dict], skip: Iterable[str] = ()) -> list[str]:
    """`sizes_problems`, then every recorded file hashed and its rows re-read."""
    problems = sizes_problems(folder, records, skip)
    bad = {p.split(":", 1)[0] for p in problems}
    for record in records:
        if record["path"] in bad:
            continue
        try:
            now = file_record(folder, Listed(record["path"], record["bytes"]))
        except Exception as error:  # an unreadable file is damaged, whatever the error
            problems.append(f"{record['path']}: unreadable ({type(error).__name__}: {error})")
            continue
        if now["sha256"] != record["sha256"]:
            problems.append(f"{record['path']}: sha256 {now['sha256'][:12]}..., recorded "
                            f"{record['sha256'][:12]}... (content changed)")
        elif now.get("rows") != record.get("rows"):
            problems.append(f"{record['path']}: {now.get('rows')} rows, recorded "
                            f"{record.get('rows')}")
    return problems


def nested_stage_dirs(workdir: str, stage: str, stages: Iterable[str]) -> list[str]:
    """Folders of other stages inside this stage's folder, relative to it."""
    own = layout.stage_folder(workdir, stage).rstrip("/") + "/"
    return [layout.stage_folder(workdir, other)[len(own):] for other in stages
            if other != stage and layout.stage_folder(workdir, other).startswith(own)]


def stage_record(workdir: str, stage: str) -> dict | None:
    """A committed stage's `stage.json`, or None when the stage is not committed."""
    folder = layout.stage_folder(workdir, stage)
    marker = fs.join(folder, layout.STAGE_FILE)
    if not (fs.exists(fs.join(folder, layout.SUCCESS)) and fs.exists(marker)):
        return None
    try:
        info = fs.read_json(marker)
    except ValueError as error:  # a damaged record: the stage is not done, and says why
        return {"unreadable": f"{layout.STAGE_FILE}: unreadable ({error})"}
    return info if isinstance(info, dict) else {"unreadable": f"{layout.STAGE_FILE}: not a "
                                                              f"record"}


def mark_not_done(workdir: str, stage: str) -> None:
    """Remove a damaged stage's `_SUCCESS`: the next run rebuilds it (and what reads it)."""
    fs.remove_file(fs.join(layout.stage_folder(workdir, stage), layout.SUCCESS))


def check_stage(workdir: str, stage: str, stages: Iterable[str], full: bool = True
                ) -> list[str] | None:
    """Problems of a committed stage (None: not committed; [] : intact)."""
    info = stage_record(workdir, stage)
    if info is None:
        return None
    if "unreadable" in info:
        return [info["unreadable"]]
    if "files" not in info:
        return [f"{layout.STAGE_FILE}: records no files (committed by an older longweave)"]
    skip = nested_stage_dirs(workdir, stage, stages)
    check = content_problems if full else sizes_problems
    return check(layout.stage_folder(workdir, stage), info["files"], skip)


def shard_problems(out_dir: str) -> list[str]:
    """Every shard the manifest lists, against its recorded bytes and sha256."""
    from longweave.schemas.packed import Manifest

    problems = []
    for shard in Manifest.read(out_dir).shards:
        path = fs.join(out_dir, *shard.path.split("/"))
        if not fs.exists(path):
            problems.append(f"{shard.path}: missing")
            continue
        sha, _ = _digest(path)
        if sha != shard.sha256:
            problems.append(f"{shard.path}: sha256 {sha[:12]}..., manifest {shard.sha256[:12]}...")
    return problems


def verify_workdir(workdir: str) -> tuple[bool, list[str]]:
    """Every committed stage against its record and the manifest's shards: (ok, report)."""
    from longweave.jobs.stages import STAGE_ORDER
    from longweave.schemas.packed import Manifest

    ok, lines = True, []
    for stage in STAGE_ORDER:
        problems = check_stage(workdir, stage, STAGE_ORDER)
        if problems is None:
            lines.append(f"{stage:<11} not committed")
            continue
        info = stage_record(workdir, stage) or {}
        files = len(info.get("files", []))
        lines.append(f"{stage:<11} {'ok' if not problems else 'DAMAGED'} ({files} files)")
        lines += [f"  {layout.stage_folder(workdir, stage)}/{p}" for p in problems]
        ok = ok and not problems
    out = layout.output_folder(workdir)
    if Manifest.exists(out):
        problems = shard_problems(out)
        shards = len(Manifest.read(out).shards)
        lines.append(f"{'shards':<11} {'ok' if not problems else 'DAMAGED'} ({shards} in the "
                     f"manifest)")
        lines += [f"  {out}/{p}" for p in problems]
        ok = ok and not problems
    return ok, lines
