"""A tiny pack output, written with the real schemas, whose report numbers are hand-computed.

Layout (token ids in brackets; pad id 0):
  8/shard-00000: row0 A[1..5] + B#0[6,7,8] | row1 B#1[9,10,6,7] + pad4 | row2 C[11,12,13,14,11,12,15,16]
  8/shard-00001: row0 E (same ids as C)     | row1 A (an up-sampled copy) + L#1[17,18,19]
  16/shard-00000: row0 G[20..27] + G2 (same ids as G) | row1 F[30..39] + pad6
L#0 (40000 tokens) is listed in the segment index only: it sits in a bucket not built here,
so document L is 40003 tokens long.

`build_split_output` is a second, real-tokenized output: documents with dependency links,
longer than the largest bucket, split and packed by the real tokenize and pack cores.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from tokenizers.pre_tokenizers import Whitespace

from longweave.pipeline.packing.bestfit import PackOptions, pack_segments
from longweave.pipeline.packing.copies import index_row
from longweave.pipeline.packing.encode import tokenize_documents
from longweave.pipeline.packing.segments import Segment
from longweave.pipeline.packing.shards import write_shard
from longweave.pipeline.packing.tokenizer import SpecialIds
from longweave.schemas.document import Document, Span, dump_meta
from longweave.schemas.ledger import Ledger
from longweave.schemas.packed import (
    PAD_DOC_ID,
    PAD_SOURCE,
    SEGMENT_INDEX_SCHEMA,
    Manifest,
    PackedSequence,
    ShardEntry,
    packed_schema,
)
from longweave.schemas.spans import file_label, turn_label

A, B0, B1 = [1, 2, 3, 4, 5], [6, 7, 8], [9, 10, 6, 7]
C = [11, 12, 13, 14, 11, 12, 15, 16]
L1, G, F = [17, 18, 19], list(range(20, 28)), list(range(30, 40))

# the reader's own quality signals beside the filter's chunk score (its own namespace)
BOOK_META = {
    "A": {"author": "Austen", "quality": {"alpha": 0.9}, "filter": {"quality": {"score": 0.8}}},
    "B": {"author": "Bronte", "quality": {"alpha": 0.7}, "filter": {"quality": {"score": 0.6}}},
}
# (segment_id, doc_id, source, kind, tokens, chars, piece, pieces, split, meta)
INDEX_ROWS = [
    ("A", "A", "books", "book", 5, 25, 0, 1, "none", BOOK_META["A"]),
    ("B#0", "B", "books", "book", 3, 15, 0, 2, "span:chapter", BOOK_META["B"]),
    ("B#1", "B", "books", "book", 4, 20, 1, 2, "cut", BOOK_META["B"]),
    ("C", "C", "code", "repo", 8, 40, 0, 1, "none",
     {"repo": "json",
      "tokenize": {"dependency_distances": {"chars": [100, 200], "tokens": [20, 40]}}}),
    ("E", "E", "code", "repo", 8, 40, 0, 1, "none", {"repo": "csv"}),
    ("L#0", "L", "books", "book", 40000, 160000, 0, 2, "span:chapter", {"author": "Long"}),
    ("L#1", "L", "books", "book", 3, 12, 1, 2, "span:chapter", {"author": "Long"}),
    ("G", "G", "synth", "megadoc", 8, 32, 0, 1, "none",
     {"depth": 0.25, "tokenize": {"dependency_distances": {"chars": [24, 8], "tokens": [6, 2]}}}),
    ("G2", "G2", "synth", "megadoc", 8, 32, 0, 1, "none", {"depth": 0.95}),
    ("F", "F", "agents", "trajectory", 10, 50, 0, 1, "none", {"tool_calls_by_tool": {"bash": 3, "edit": 1}}),
]
SOURCE = {row[0]: row[2] for row in INDEX_ROWS}
SHARDS: dict[str, list[list[tuple[str, list[int]]]]] = {
    "8/shard-00000.arrow": [[("A", A), ("B#0", B0)], [("B#1", B1), (PAD_DOC_ID, [0] * 4)],
                            [("C", C)]],
    "8/shard-00001.arrow": [[("E", C)], [("A", A), ("L#1", L1)]],
    "16/shard-00000.arrow": [[("G", G), ("G2", G)], [("F", F), (PAD_DOC_ID, [0] * 6)]],
}


def make_tokenizer() -> Tokenizer:
    vocab = {"<pad>": 0, **{f"w{i}": i for i in range(1, 40)}, "<unk>": 40}
    tokenizer = Tokenizer(WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = Whitespace()
    return tokenizer


def _row(segments: list[tuple[str, list[int]]], bucket: int) -> dict:
    ids: list[int] = []
    cu = [0]
    for _, tokens in segments:
        ids.extend(tokens)
        cu.append(len(ids))
    assert len(ids) == bucket
    mask = [0 if sid == PAD_DOC_ID else 1 for sid, toks in segments for _ in toks]
    return PackedSequence(
        input_ids=ids, cu_seqlens=cu, doc_ids=[s for s, _ in segments],
        doc_sources=[PAD_SOURCE if s == PAD_DOC_ID else SOURCE[s] for s, _ in segments],
        bucket=bucket, loss_mask=mask).to_row()


def ledgers() -> list[tuple[str, dict]]:
    """Every stage's ledger, in flow order."""
    stages = [
        Ledger("collect", 12, 11, dropped={"quarantined:UnicodeDecodeError": 1}),
        Ledger("filter", 11, 9, dropped={"filtered:min_chars": 1, "filtered:empty": 1}),
        Ledger("dedupe", 9, 7, dropped={"duplicate": 2}),
        Ledger("synthesize", 7, 9, created=3, dropped={"synth-failed:timeout": 1}),
        Ledger("pack", 9, 8, dropped={"sampled-out": 1}),
    ]
    return [(ledger.stage, ledger.to_json()) for ledger in stages]


MIXTURE = {
    "target": {"agents": 0.2, "books": 0.4, "code": 0.3, "synth": 0.1},
    "actual": {"agents": 0.169492, "books": 0.254237, "code": 0.271186, "synth": 0.271186},
    "tokens": {"books": {"available": 40015, "target": 24, "packed": 20}},
    "by_bucket": {"8": {"books": 20, "code": 16}, "16": {"synth": 16, "agents": 10}},
}


def build_output(out_dir: Path) -> Path:
    """Write shards, segment index, tokenizer and manifest into `out_dir`."""
    schema = packed_schema(loss_mask=True, position_ids=False)
    entries = []
    for rel, rows in SHARDS.items():
        bucket = int(rel.split("/")[0])
        path = out_dir / rel
        os.makedirs(path.parent, exist_ok=True)
        table = pa.Table.from_pylist([_row(r, bucket) for r in rows], schema=schema)
        options = pa.ipc.IpcWriteOptions(compression="zstd")
        with pa.ipc.new_file(str(path), schema, options=options) as writer:
            writer.write_table(table)
        data = path.read_bytes()
        entries.append(ShardEntry(path=rel, bucket=bucket, rows=len(rows),
                                  tokens=len(rows) * bucket, bytes=len(data),
                                  sha256=hashlib.sha256(data).hexdigest()))
    os.makedirs(out_dir / "docs", exist_ok=True)
    starts = _piece_starts(INDEX_ROWS)
    index = [dict(zip(SEGMENT_INDEX_SCHEMA.names,
                      (*row[:4], 65536 if row[0] == "L#0" else 8, *row[4:8], starts[row[0]],
                       starts[row[0]] + row[4], row[8], 2 if row[0] == "A" else 1,
                       dump_meta(row[9])),
                      strict=True)) for row in INDEX_ROWS]
    pq.write_table(pa.Table.from_pylist(index[:5], schema=SEGMENT_INDEX_SCHEMA),
                   out_dir / "docs" / "part-00000.parquet")
    pq.write_table(pa.Table.from_pylist(index[5:], schema=SEGMENT_INDEX_SCHEMA),
                   out_dir / "docs" / "part-00001.parquet")
    make_tokenizer().save(str(out_dir / "tokenizer.json"))
    flow = ledgers()
    Manifest(recipe_name="tiny", recipe_hash="r" * 8, tokenizer_hash="t" * 8, buckets=[8, 16],
             shards=entries, mixture=MIXTURE, ledgers=dict(flow),
             stages=[stage for stage, _ in flow]).write(str(out_dir))
    return out_dir


def _piece_starts(rows: list[tuple]) -> dict[str, int]:
    """Each piece's first token in its document (no BOS/EOS here): the pieces before it."""
    done: dict[str, int] = {}
    starts = {}
    for row in sorted(rows, key=lambda r: (r[1], r[6])):
        starts[row[0]] = done.get(row[1], 0)
        done[row[1]] = starts[row[0]] + row[4]
    return starts


SPLIT_BUCKETS = [64, 256]
WORDS = 120  # the split fixture's vocabulary: w0..w119, one token a word


def split_documents() -> list[Document]:
    """Documents longer than the largest bucket whose links reach across their pieces.

    - `repo`: 12 files of 80 words, each importing the file before it and file 0 (import
      edges by file index), so links run from next door to the whole repository away;
    - `session`: a trajectory of 10 turns of 90 words whose last turn refers back to every
      earlier one (`dependency_links` in characters);
    - `small`: a whole document with one link, kept in one row.
    """
    def words(n: int, seed: int) -> str:
        return " ".join(f"w{(seed * 7 + i * 13) % WORDS}" for i in range(n)) + " "

    files, spans, at = [], [], 0
    for number in range(12):
        text = words(80, number)
        spans.append(Span(at, at + len(text), file_label(f"f{number}.py")))
        files.append(text)
        at += len(text)
    edges = [[i, i - 1, 0] for i in range(1, 12)] + [[i, 0, 0] for i in range(2, 12)]
    repo = Document("repo", "code", "repo", "".join(files), spans,
                    {"repo": "r", "dependency_edges": edges})
    turns, tspans, at = [], [], 0
    for number in range(10):
        text = words(90, 50 + number)
        tspans.append(Span(at, at + len(text), turn_label("agent")))
        turns.append(text)
        at += len(text)
    links = [[s.start, tspans[-1].start] for s in tspans[:-1]]
    session = Document("session", "agents", "trajectory", "".join(turns), tspans,
                       {"dependency_links": links})
    small_text = words(40, 99)
    small = Document("small", "synth", "megadoc", small_text, [],
                     {"dependency_links": [[0, small_text.index(" ", 60) + 1]]})
    return [repo, session, small]


def split_tokenizer() -> Tokenizer:
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, **{f"w{i}": 3 + i for i in range(WORDS)},
             "<unk>": 3 + WORDS}
    tokenizer = Tokenizer(WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = Whitespace()
    return tokenizer


def build_split_output(out_dir: Path) -> tuple[Path, list[Segment]]:
    """`split_documents` through the real tokenize core (BOS/EOS, buckets 64 and 256),
    packed by best-fit into shards, with the segment index the pack stage writes."""
    tokenizer = split_tokenizer()
    specials = SpecialIds(bos=1, eos=2, pad=0)
    segments = [Segment.from_row(row) for row in tokenize_documents(
        tokenizer, split_documents(), SPLIT_BUCKETS, specials) if isinstance(row, dict)]
    for bucket in SPLIT_BUCKETS:
        mine = [(s, 0) for s in segments if s.bucket == bucket]
        rows = pack_segments(mine, PackOptions(bucket, specials.pad, False, False))
        write_shard(str(out_dir), bucket, 0, rows, False, False, "zstd")
    os.makedirs(out_dir / "docs", exist_ok=True)
    pq.write_table(pa.Table.from_pylist([index_row(s, 1) for s in segments],
                                        schema=SEGMENT_INDEX_SCHEMA),
                   out_dir / "docs" / "part-00000.parquet")
    tokenizer.save(str(out_dir / "tokenizer.json"))
    return out_dir, segments


BOOKS_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "books"


def build_book_output(out_dir: Path, bucket: int = 16_384, rows_per_shard: int = 16) -> Path:
    """Real Gutenberg books tokenized with an in-memory BPE and cut into `bucket` rows.

    Each book is split into pieces at row ends (split "cut"), so every document is long and
    its pieces spread over rows and shards, as the pack stage lays out a long book.
    """
    from tokenizers import models, pre_tokenizers, trainers

    texts = {p.stem: p.read_bytes().decode("cp1252", errors="replace")
             for p in sorted(BOOKS_DIR.glob("*.txt"))}
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.train_from_iterator(list(texts.values()), trainers.BpeTrainer(
        vocab_size=4096, show_progress=False, special_tokens=["<eos>"]))
    stream: list[tuple[str, list[int], int]] = []  # (doc, ids, chars)
    for name, text in texts.items():
        stream.append((name, tokenizer.encode(text).ids + [0], len(text)))
    rows: list[list[tuple[str, str, list[int]]]] = [[]]
    free = bucket
    pieces: dict[str, list[tuple[str, int]]] = {}
    for name, ids, _ in stream:
        at = 0
        while at < len(ids):
            take = min(free, len(ids) - at)
            sid = f"{name}#{len(pieces.setdefault(name, []))}"
            pieces[name].append((sid, take))
            rows[-1].append((sid, name, ids[at:at + take]))
            at, free = at + take, free - take
            if free == 0:
                rows.append([])
                free = bucket
    if rows[-1]:
        rows[-1].append((PAD_DOC_ID, PAD_DOC_ID, [0] * free))
    else:
        rows.pop()
    schema = packed_schema(loss_mask=False, position_ids=False)
    for start in range(0, len(rows), rows_per_shard):
        path = out_dir / str(bucket) / f"shard-{start // rows_per_shard:05d}.arrow"
        os.makedirs(path.parent, exist_ok=True)
        table = pa.Table.from_pylist([PackedSequence(
            input_ids=[t for _, _, ids in row for t in ids],
            cu_seqlens=[0, *_cumsum(len(ids) for _, _, ids in row)],
            doc_ids=[sid for sid, _, _ in row],
            doc_sources=[PAD_SOURCE if sid == PAD_DOC_ID else "books" for sid, _, _ in row],
            bucket=bucket).to_row() for row in rows[start:start + rows_per_shard]],
            schema=schema)
        with pa.ipc.new_file(str(path), schema) as writer:
            writer.write_table(table)
    chars = {name: n for name, _, n in stream}
    tokens = {name: len(ids) for name, ids, _ in stream}
    index = [{"segment_id": sid, "doc_id": name, "source": "books", "kind": "book",
              "bucket": bucket, "tokens": take, "chars": chars[name] * take // tokens[name],
              "piece": i, "pieces": len(pieces[name]), "split": "cut", "copies": 1,
              "meta": dump_meta({"author": name, "quality": {"alpha": 0.8}})}
             for name in sorted(pieces) for i, (sid, take) in enumerate(pieces[name])]
    os.makedirs(out_dir / "docs", exist_ok=True)
    pq.write_table(pa.Table.from_pylist(index, schema=SEGMENT_INDEX_SCHEMA),
                   out_dir / "docs" / "part-00000.parquet")
    tokenizer.save(str(out_dir / "tokenizer.json"))
    return out_dir


def _cumsum(values) -> list[int]:
    out, total = [], 0
    for v in values:
        total += v
        out.append(total)
    return out
