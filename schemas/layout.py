"""The names of the work folder and the output folder, defined once.

Every stage, reader and export builds its paths from these, so a renamed file is renamed
everywhere and a reader can never look for a file under a name no writer uses.

```
WORKDIR/
  .tmp-<stage>/               a stage being written (moved into place when it commits)
  <stage>/                    collect, filter, dedupe, tokenizer, synthesize, tokenize
    _SUCCESS  stage.json  ledger.json   (stage.json: hash, and every file's bytes, sha256,
                                         rows; collect's also its input fingerprints)
    documents/*.parquet  drops/*.parquet  quarantine/*.parquet  (clusters|components)/*.jsonl
  tokenize/segments/*.parquet
  logs/<stage>.log
  pack/                       the output
    <bucket>/shard-00000.arrow  docs/part-*.parquet  tokenizer.json  manifest.json
    tokenizer_config.json  special_tokens_map.json
    report/summary.json  report/report.html  report/shards/*.json
```
"""

from __future__ import annotations

from longweave.schemas import fs

# --- a committed stage folder
SUCCESS = fs.SUCCESS
STAGE_FILE = "stage.json"
LEDGER_FILE = "ledger.json"
COUNTS_FILE = "counts.json"  # the summed counts a stage's Beam job leaves for its ledger
TMP_PREFIX = ".tmp-"
LOGS_DIR = "logs"

# --- what a document stage writes (also the names of its tagged outputs)
DOCUMENTS_DIR = "documents"
DROPS_DIR = "drops"
QUARANTINE_DIR = "quarantine"
CLUSTERS_DIR = "clusters"
COMPONENTS_DIR = "components"
SEGMENTS_DIR = "segments"  # tokenize: one row per document piece, with its tokens

# --- the output folder (the pack stage's)
PACK_STAGE = "pack"
MANIFEST_FILE = "manifest.json"
TOKENIZER_FILE = "tokenizer.json"
# beside tokenizer.json, so the output folder loads with transformers' AutoTokenizer offline
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
SPECIAL_TOKENS_FILE = "special_tokens_map.json"
INDEX_DIR = "docs"  # segment index: one row per packed document piece, with its meta
SHARD_SUFFIX = ".arrow"

# --- the report, inside the output folder
REPORT_DIR = "report"
REPORT_SHARDS_DIR = "shards"
SUMMARY_FILE = "summary.json"
HTML_FILE = "report.html"


def shard_relpath(bucket: int, index: int) -> str:
    """`<bucket>/shard-<index>.arrow`, relative to the output folder."""
    return f"{bucket}/shard-{index:05d}{SHARD_SUFFIX}"


def bucket_of_shard(rel_path: str) -> int:
    """The bucket a shard path belongs to (its folder name)."""
    return int(rel_path.replace("\\", "/").split("/")[-2])


def stage_folder(workdir: str, stage: str) -> str:
    """Where a stage commits: its own folder, except the report, which lives in the output."""
    if stage == "report":
        return fs.join(workdir, PACK_STAGE, REPORT_DIR)
    return fs.join(workdir, stage)


def output_folder(workdir: str) -> str:
    """The output folder of a run: shards, index, tokenizer, manifest, report."""
    return fs.join(workdir, PACK_STAGE)
