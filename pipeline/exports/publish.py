"""`longweave publish`: a pack output as a Hugging Face dataset folder, uploaded when possible.

The folder keeps the pack layout (`<bucket>/shard-*.arrow`, so `manifest.json` stays valid
inside it) and adds a dataset card whose YAML front matter declares one config per length
bucket, its features (from the shards' own Arrow schema) and row counts, so
`datasets.load_dataset(folder, name="bucket_<n>")` works and checks the counts. Shards are
checked against the manifest's sha256 before they are published.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from longweave.schemas import fs, layout
from longweave.schemas.meta import MEMBER_IDS, license_of
from longweave.schemas.packed import Manifest
from longweave.schemas.recipe import portable_paths

MARKER = ".longweave-publish"
# License ids the Hub knows, and the spellings metadata uses for them. Ambiguous names
# ("BSD License", "Apache Software License") stay `other`: a card must not guess a version.
HUB_LICENSES = frozenset({
    "apache-2.0", "mit", "bsd-2-clause", "bsd-3-clause", "gpl-2.0", "gpl-3.0", "lgpl-2.1",
    "lgpl-3.0", "agpl-3.0", "mpl-2.0", "cc0-1.0", "cc-by-4.0", "cc-by-sa-4.0", "cc-by-nc-4.0",
    "cc-by-sa-3.0", "unlicense", "odc-by", "pddl", "isc", "artistic-2.0", "bsl-1.0", "wtfpl",
})
LICENSE_ALIASES = {
    "apache 2.0": "apache-2.0", "apache license 2.0": "apache-2.0", "apache-2": "apache-2.0",
    "mit license": "mit", "new bsd": "bsd-3-clause", "bsd 3-clause": "bsd-3-clause",
    "bsd 2-clause": "bsd-2-clause", "cc0": "cc0-1.0", "cc-by": "cc-by-4.0",
    "gplv3": "gpl-3.0", "gplv2": "gpl-2.0", "mpl 2.0": "mpl-2.0",
}
UNKNOWN = "unknown"
DERIVED = "derived: "  # a synthetic sample's license: its members' licenses


def config_name(bucket: int) -> str:
    return f"bucket_{bucket}"


def hub_license(value: str) -> list[str]:
    """Hub license ids for one metadata value; an SPDX expression gives one per operand."""
    ids = []
    for part in re.split(r"\s+(?:or|and|with)\s+|[()]", value.strip().lower()):
        part = part.strip()
        if not part:
            continue
        part = LICENSE_ALIASES.get(part, part.replace(" ", "-"))
        ids.append(part if part in HUB_LICENSES else "other")
    return ids or ["other"]


def document_licenses(index_rows: list[dict], declared: dict[str, str] | None = None
                      ) -> dict[tuple[str, str], int]:
    """(source, license) -> distinct documents, from the index.

    A document's license is what its record states (readers store any license field as
    `license`), else its source's `license` in the recipe (`declared`). A synthetic sample
    is derived from its members: `derived: <their licenses>`, `unknown` for a member whose
    license nothing states.
    """
    declared = declared or {}
    licenses: dict[str, tuple[str, str | None, list[str]]] = {}
    for row in index_rows:
        if row["doc_id"] in licenses:
            continue
        meta = json.loads(row.get("meta") or "{}")
        own = license_of(meta) or declared.get(row["source"])
        members = meta.get(MEMBER_IDS) if own is None else None
        licenses[row["doc_id"]] = (row["source"], own, list(members or []))
    counts: Counter = Counter()
    for source, own, members in licenses.values():
        if own is None and members:
            found = sorted({(licenses.get(m, ("", None, []))[1] or UNKNOWN) for m in members})
            own = DERIVED + ", ".join(found)
        counts[(source, own or UNKNOWN)] += 1
    return dict(sorted(counts.items()))


def card_license(counts: dict[tuple[str, str], int]) -> list[str]:
    """The card's `license` list: every Hub id found, plus `other` for anything unlabelled."""
    ids: set[str] = set()
    for (_, value), _n in counts.items():
        for part in value.removeprefix(DERIVED).split(", "):
            ids.update(["other"] if part == UNKNOWN else hub_license(part))
    ids = ids or {"other"}
    return sorted(ids - {"other"}) + (["other"] if "other" in ids else [])


def read_index(out_dir: str) -> list[dict]:
    """The pack stage's segment index (`docs/*.parquet`): doc ids, sources and meta."""
    rows: list[dict] = []
    for path in fs.glob(fs.join(out_dir, layout.INDEX_DIR, "*.parquet")):
        table = pq.read_table(io.BytesIO(fs.read_bytes(path)),
                              columns=["doc_id", "source", "meta"])
        rows.extend(table.to_pylist())
    return rows


def _place_shard(source: str, target: str, sha256: str) -> None:
    """Hardlink (or copy) one shard after checking it is the one the manifest names."""
    os.makedirs(os.path.dirname(target), exist_ok=True)
    data = fs.read_bytes(source)
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ValueError(f"publish: {source} does not match its sha256 in manifest.json")
    if fs.is_local(source):
        try:
            os.link(source, target)
            return
        except OSError:  # another device, or links not allowed: copy instead
            pass
    with open(target, "wb") as handle:
        handle.write(data)


def _shard_shape(path: str) -> tuple[pa.Schema, int]:
    """A shard's schema and its uncompressed size (what the Hub calls num_bytes)."""
    with pa.ipc.open_file(pa.memory_map(path)) as reader:
        return reader.schema, reader.read_all().nbytes


def dataset_name(manifest: Manifest, repo_id: str | None) -> str:
    """The card's title: the Hub name when publishing there, else the recipe's name."""
    return repo_id.split("/")[-1] if repo_id else manifest.recipe_name


def front_matter(manifest: Manifest, schemas: dict[int, pa.Schema], sizes: Counter,
                 licenses: list[str], repo_id: str | None) -> dict[str, Any]:
    """The card's YAML: one config per bucket with its data_files, features and row count."""
    from datasets import Features

    rows: Counter = Counter()
    for shard in manifest.shards:
        rows[shard.bucket] += shard.rows
    buckets = sorted(schemas)
    configs, infos = [], []
    for bucket in buckets:
        name = config_name(bucket)
        # the default config is the longest rows: what a long-context run trains on
        configs.append({"config_name": name, **({"default": True} if bucket == buckets[-1]
                                                 else {}),
                        "data_files": [{"split": "train", "path": f"{bucket}/*.arrow"}]})
        infos.append({"config_name": name,
                      "features": Features.from_arrow_schema(schemas[bucket])._to_yaml_list(),
                      "splits": [{"name": "train", "num_bytes": sizes[bucket],
                                  "num_examples": rows[bucket]}]})
    return {"license": licenses[0] if len(licenses) == 1 else licenses,
            "pretty_name": dataset_name(manifest, repo_id),
            "tags": ["long-context", "packed", "pretraining", "longweave"],
            "task_categories": ["text-generation"],
            "configs": configs, "dataset_info": infos}


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def card_body(manifest: Manifest, license_counts: dict[tuple[str, str], int],
              summary: dict | None, repo_id: str | None, folder_name: str) -> str:
    """The card's Markdown: loading, buckets, mixture, licenses, report summary, recipe."""
    totals = manifest.totals
    by_bucket: dict[int, list[int]] = {}
    for shard in manifest.shards:
        entry = by_bucket.setdefault(shard.bucket, [0, 0, 0])
        entry[0] += shard.rows
        entry[1] += shard.tokens
        entry[2] += 1
    mixture = manifest.mixture
    tokens = mixture.get("tokens", {})
    parts = [
        f"# {dataset_name(manifest, repo_id)}",
        f"Packed, length-bucketed training sequences built by longweave from the recipe "
        f"`{manifest.recipe_name}` (recipe hash `{manifest.recipe_hash}`, tokenizer "
        f"hash `{manifest.tokenizer_hash}`): {totals['tokens']:,} tokens in "
        f"{totals['rows']:,} rows. Each row is exactly its bucket's length; "
        "`cu_seqlens` marks the document boundaries (FlashAttention varlen convention) and "
        "`loss_mask`, when present, is 0 on tokens that do not count in the loss. "
        "`tokenizer.json` is the tokenizer the ids come from.",
        "## Loading",
        "```python\nfrom datasets import load_dataset\n\n"
        + ("" if repo_id else "# from the folder that holds this dataset folder\n")
        + f'rows = load_dataset("{repo_id or "./" + folder_name}", '
        f'name="{config_name(max(by_bucket))}", split="train")\n```',
        "## Configs (one per length bucket)",
        _table(["config", "bucket", "rows", "tokens", "shards"],
               [[config_name(b), b, f"{r:,}", f"{t:,}", s]
                for b, (r, t, s) in sorted(by_bucket.items())]),
        "## Mixture",
        _table(["source", "target share", "actual share", "available tokens", "packed tokens"],
               [[s, mixture.get("target", {}).get(s, ""), mixture.get("actual", {}).get(s, ""),
                 f"{t.get('available', 0):,}", f"{t.get('packed', 0):,}"]
                for s, t in sorted(tokens.items())]),
        "## Licenses",
        "As the documents' metadata states them, else as the recipe declares for their source "
        "(`sources[].license`); documents per source. A synthetic sample is `derived:` from "
        "the licenses of the documents it is made of. `unknown` means neither the record "
        "nor the recipe states one: check that source's own terms.",
        _table(["source", "license", "documents"],
               [[s, v, n] for (s, v), n in license_counts.items()]),
    ]
    if summary:
        parts += ["## Report summary", _summary_tables(summary)]
    parts += ["## Ledgers (records in, out and dropped per stage)",
              _table(["stage", "in", "out", "dropped"],
                     [[stage, ledger.get("in"), ledger.get("out"),
                       ", ".join(f"{k} {v}" for k, v in ledger.get("dropped", {}).items())
                       or "-"]
                      for stage, ledger in manifest.ordered_ledgers()]),
              "## Recipe",
              "```yaml\n" + yaml.safe_dump(manifest.recipe, sort_keys=False)
              + "```"]
    return "\n\n".join(parts) + "\n"


def _summary_tables(summary: dict) -> str:
    totals = summary.get("totals", {})
    keys = ["documents", "segments", "rows", "tokens", "content_tokens", "pad_tokens",
            "row_fill"]
    text = _table(["measure", "value"], [[k, totals[k]] for k in keys if k in totals])
    triangle = summary.get("triangle", {})
    if triangle:
        text += "\n\n" + _table(
            ["source", "tokens", "length", "quality", "diversity", "dependency tokens"],
            [[s, t.get("tokens"), t.get("length"), t.get("quality"), t.get("diversity"),
              t.get("dependency_tokens")] for s, t in sorted(triangle.items())])
    return text


def default_folder(out_dir: str) -> str:
    """`<workdir>/publish` beside the pack output (a local folder even for remote runs)."""
    if not fs.is_local(out_dir):
        return os.path.abspath("longweave-publish")
    return os.path.join(os.path.dirname(os.path.abspath(out_dir.rstrip("/"))), "publish")


def _fresh_folder(folder: str) -> None:
    if os.path.isdir(folder) and os.listdir(folder):
        if not os.path.exists(os.path.join(folder, MARKER)):
            raise ValueError(f"publish: {folder} is not empty and was not written by publish")
        shutil.rmtree(folder)
    os.makedirs(folder, exist_ok=True)


def declared_licenses(manifest: Manifest) -> dict[str, str]:
    """Source name -> the license the recipe declares for it (`sources[].license`)."""
    return {spec["name"]: spec["license"] for spec in manifest.recipe.get("sources", [])
            if spec.get("license")}


def write_folder(out_dir: str, repo_id: str | None, folder: str) -> str:
    """Write the dataset folder (card, shards, manifest, tokenizer, recipe, report)."""
    manifest = Manifest.read(out_dir)
    if not manifest.shards:
        raise ValueError(f"publish: {out_dir}/{layout.MANIFEST_FILE} lists no shards")
    # a manifest written before pack made its recipe portable still names local paths
    manifest.recipe = portable_paths(manifest.recipe, None)
    _fresh_folder(folder)
    schemas: dict[int, pa.Schema] = {}
    sizes: Counter = Counter()
    for shard in manifest.shards:
        target = os.path.join(folder, *shard.path.split("/"))
        _place_shard(fs.join(out_dir, *shard.path.split("/")), target, shard.sha256)
        schema, size = _shard_shape(target)
        schemas.setdefault(shard.bucket, schema)
        sizes[shard.bucket] += size
    summary = None
    summary_name = f"{layout.REPORT_DIR}/{layout.SUMMARY_FILE}"
    manifest.write(folder)
    for name in (layout.TOKENIZER_FILE, layout.TOKENIZER_CONFIG_FILE,
                 layout.SPECIAL_TOKENS_FILE, summary_name,
                 f"{layout.REPORT_DIR}/{layout.HTML_FILE}"):
        source = fs.join(out_dir, *name.split("/"))
        if fs.exists(source):
            os.makedirs(os.path.dirname(os.path.join(folder, name)), exist_ok=True)
            with open(os.path.join(folder, name), "wb") as handle:
                handle.write(fs.read_bytes(source))
            if name == summary_name:
                summary = fs.read_json(source)
    with open(os.path.join(folder, "recipe.yaml"), "w", encoding="utf-8") as handle:
        yaml.safe_dump(manifest.recipe, handle, sort_keys=False)
    counts = document_licenses(read_index(out_dir), declared_licenses(manifest))
    meta = front_matter(manifest, schemas, sizes, card_license(counts), repo_id)
    card = ("---\n" + yaml.safe_dump(meta, sort_keys=False) + "---\n\n"
            + card_body(manifest, counts, summary, repo_id, os.path.basename(folder)))
    with open(os.path.join(folder, "README.md"), "w", encoding="utf-8") as handle:
        handle.write(card)
    with open(os.path.join(folder, MARKER), "w", encoding="utf-8") as handle:
        handle.write(json.dumps({"repo_id": repo_id, "source": out_dir}) + "\n")
    return folder


def _token(token: str | None) -> str | None:
    if token:
        return token
    from huggingface_hub import get_token

    return get_token()


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def publish(out_dir: str, repo_id: str | None = None, private: bool = False,
            folder: str | None = None, token: str | None = None,
            say: Callable[[str], None] = _to_stderr) -> str:
    """Write the dataset folder; with a `repo_id`, upload it when a token and the Hub are
    reachable.

    Returns the dataset's Hub URL when uploaded, else the local folder; `say` gets the
    one line that tells the user which of the two happened (the CLI's progress line).
    """
    if repo_id is not None and not re.fullmatch(r"[\w.-]+/[\w.-]+", repo_id):
        raise ValueError(f"publish: --repo-id must be ORG/NAME, not {repo_id!r}")
    folder = write_folder(out_dir, repo_id, folder or default_folder(out_dir))
    if repo_id is None:
        say(f"publish: wrote {folder} (no --repo-id: a local dataset folder, not uploaded)")
        return folder
    from huggingface_hub import constants

    token = _token(token)
    if token is None or constants.HF_HUB_OFFLINE:
        say(f"publish: wrote {folder} (no Hugging Face token or offline: not uploaded)")
        return folder
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    try:
        url = api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        api.upload_folder(folder_path=folder, repo_id=repo_id, repo_type="dataset",
                          ignore_patterns=[MARKER],
                          commit_message="longweave publish " + os.path.basename(folder))
    except OSError as error:  # no network / Hub unreachable: the folder is still complete
        say(f"publish: wrote {folder}; upload to {repo_id} failed: {error}")
        return folder
    say(f"publish: uploaded {folder} to {url}")
    return str(url)
