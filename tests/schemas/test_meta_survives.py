"""A book, a repository and an agent session followed from collect through filter, dedupe
and tokenize to the segment index: every meta key the reader wrote arrives unchanged, and
each later stage writes only its own namespace (`longweave.schemas.meta`).

The stages run as the pure functions their Beam shells call, so this stays a fast test.
"""

from __future__ import annotations

import io
import json
import sysconfig
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import SHARED_DATA

from longweave.filters.document_filter import DocumentFilter
from longweave.filters.exact import normalised_text_hash, resolve_exact_group
from longweave.pipeline.packing.copies import index_row
from longweave.pipeline.packing.segments import encode_batch, segment_document
from longweave.pipeline.packing.tokenizer import special_ids, train_bpe
from longweave.pipeline.report.lengths import quality_signals
from longweave.schemas.document import Document
from longweave.schemas.meta import (
    DEPENDENCY_DISTANCES,
    FILTER,
    STAGE_NAMESPACES,
    TOKENIZE,
    declared_keys,
)
from longweave.schemas.packed import SEGMENT_INDEX_SCHEMA
from longweave.schemas.recipe_filters import FilterConfig
from longweave.schemas.recipe_pack import TokenizerConfig
from longweave.schemas.recipe_sources import BookOptions, RepoOptions, TrajectoryOptions
from longweave.sources.books import BookReader
from longweave.sources.repos import RepoReader
from longweave.sources.trajectories import TrajectoryReader

BUCKETS = [2048, 16384]
STDLIB_JSON = Path(sysconfig.get_paths()["stdlib"]) / "json"

CHAPTERS = [
    ("I", "The Lighthouse Road", """
The road to the lighthouse ran along the top of the cliffs, and in the evenings Margaret
walked it with her father, who liked to say that a man could see the whole of his life
from the last bend before the lamp. She did not believe him, but she liked the way the
light turned over the water and came back to them, again and again, as if it had
forgotten something on the shore. The gulls went home before them. The grass was short
and grey with salt, and the wind that came up from the sea smelt of tar and of the
fishing boats that lay drawn up on the shingle below the harbour wall.
"""),
    ("II", "A Letter from the Town", """
In the spring a letter came from the town, and her father read it twice at the kitchen
table before he put it into the drawer with the accounts. It was from the harbour board,
and it said that the lamp was to be worked by a machine, and that the keeper would no
longer be wanted after the autumn. Margaret asked him what he would do. He said that he
would walk the road in the evenings as he always had, and that the machine would have
to learn to see the water for itself, which he doubted it ever could.
"""),
    ("III", "The Last Bend", """
On the last evening of the season they walked out together as far as the last bend, and
her father stopped, as he always did, and looked out at the light going over the water.
Margaret waited beside him. She thought that she could see, at last, what he had meant:
not the whole of a life, but the shape of one, turning and coming back, and the shore
waiting for it in the dark. When the lamp came round again she took his arm, and they
went down the road to the house together, and neither of them said anything at all.
"""),
]


def gutenberg_book(chapters: list[tuple[str, str, str]] = CHAPTERS) -> bytes:
    """A small book shaped like a Project Gutenberg file: Windows-1252, CRLF, markers,
    a production note and the license footer."""
    body = "\n\n".join(f"CHAPTER {number}\n\n{title}\n{text}" for number, title, text in chapters)
    text = (
        "The Project Gutenberg eBook of The Lighthouse Road, by Ann Keeper\n\n"
        "Title: The Lighthouse Road\n\nAuthor: Ann Keeper\n\n"
        "Release Date: March 3, 2021 [eBook #99001]\n\nLanguage: English\n\n"
        "*** START OF THE PROJECT GUTENBERG EBOOK THE LIGHTHOUSE ROAD ***\n\n"
        "Produced by a volunteer \u2014 thanks to \u201cDistributed Proofreaders\u201d.\n\n\n"
        f"{body}\n\n"
        "*** END OF THE PROJECT GUTENBERG EBOOK THE LIGHTHOUSE ROAD ***\n\n"
        "Updated editions will replace the previous one\u2014the old editions will be renamed.\n"
    )
    return text.replace("\n", "\r\n").encode("cp1252")


SESSION = {
    "schema_version": "ATIF-v1.4",
    "session_id": "meta-survives-1",
    "agent": {"name": "terminus", "version": "2.0", "model_name": "gpt-x"},
    "steps": [
        {"step_id": 1, "timestamp": "2025-10-01T10:00:00Z", "source": "system",
         "message": "You are a shell agent working in a checked-out repository."},
        {"step_id": 2, "timestamp": "2025-10-01T10:00:01Z", "source": "user",
         "message": "Find where the retry limit is configured and raise it to five."},
        {"step_id": 3, "timestamp": "2025-10-01T10:00:05Z", "source": "agent",
         "message": "Searching the configuration files for the retry setting.",
         "tool_calls": [{"tool_call_id": "c1", "function_name": "bash",
                         "arguments": {"cmd": "grep -rn retry conf/"}}],
         "observation": {"results": [{"source_call_id": "c1",
                                      "content": "conf/network_settings_v3.yaml:12: retries: 3"}]},
         "metrics": {"prompt_tokens": 120, "completion_tokens": 30}},
        {"step_id": 4, "timestamp": "2025-10-01T10:01:05Z", "source": "agent",
         "message": "Editing conf/network_settings_v3.yaml to set retries to 5.",
         "tool_calls": [{"tool_call_id": "c2", "function_name": "edit",
                         "arguments": {"path": "conf/network_settings_v3.yaml", "line": 12}}],
         "observation": {"results": [{"source_call_id": "c2", "content": "ok"}]}},
        {"step_id": 5, "timestamp": "2025-10-01T10:02:00Z", "source": "agent",
         "message": "The retry limit now reads 5 in conf/network_settings_v3.yaml."},
    ],
    "final_metrics": {"total_prompt_tokens": 500, "total_steps": 5},
}


def collect_book(folder: Path, raw: bytes, name: str = "lighthouse.txt") -> Document:
    path = folder / name
    path.write_bytes(raw)
    [doc] = BookReader.read("books", str(path), BookOptions())
    assert isinstance(doc, Document), doc
    return doc


def collect_repo() -> Document:
    if not (STDLIB_JSON / "__init__.py").is_file():
        pytest.skip(f"the interpreter's stdlib json package is not at {STDLIB_JSON}")
    [doc] = RepoReader.read("code", str(STDLIB_JSON), RepoOptions())
    assert isinstance(doc, Document), doc
    return doc


def collect_trajectory(folder: Path) -> Document:
    path = folder / "session.json"
    path.write_text(json.dumps(SESSION))
    [doc] = TrajectoryReader.read("agents", str(path), TrajectoryOptions())
    assert isinstance(doc, Document), doc
    return doc


def to_index(collected: list[Document]) -> list[dict[str, Any]]:
    """filter -> exact dedupe -> tokenize -> segment index, written and read back as Parquet."""
    filtered = [DocumentFilter(FilterConfig())(doc) for doc in collected]
    assert all(isinstance(doc, Document) for doc in filtered), filtered
    groups: dict[str, list[Document]] = {}
    for doc in filtered:
        groups.setdefault(normalised_text_hash(doc.text), []).append(doc)
    kept = [item for key, docs in sorted(groups.items())
            for item in resolve_exact_group(key, docs) if isinstance(item, Document)]
    assert len(kept) == len(collected)
    tokenizer = train_bpe([doc.text for doc in kept], 600, 2)
    specials = special_ids(tokenizer, TokenizerConfig())
    rows = [index_row(segment, 1) for encoded in encode_batch(tokenizer, kept)
            for segment in segment_document(encoded, BUCKETS, specials)]
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=SEGMENT_INDEX_SCHEMA), sink)
    return pq.read_table(io.BytesIO(sink.getvalue())).to_pylist()


@pytest.fixture(scope="module")
def followed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Document, list[dict]]]:
    """kind -> (the document as collected, its segment index rows)."""
    folder = tmp_path_factory.mktemp("meta")
    collected = [collect_book(folder, gutenberg_book()), collect_repo(),
                 collect_trajectory(folder)]
    before = [json.loads(json.dumps(doc.meta)) for doc in collected]  # JSON, like the index
    rows = to_index(collected)
    out = {}
    for doc, meta in zip(collected, before, strict=True):
        doc.meta = meta
        out[doc.kind] = (doc, [row for row in rows if row["doc_id"] == doc.id])
        assert out[doc.kind][1], f"{doc.kind} has no segment in the index"
    return out


def assert_reader_keys_survive(doc: Document, rows: list[dict]) -> None:
    for row in rows:
        meta = json.loads(row["meta"])
        for key, value in doc.meta.items():
            assert key in meta, f"{doc.kind}: meta[{key!r}] was lost on the way to the index"
            assert meta[key] == value, f"{doc.kind}: meta[{key!r}] changed on the way"
        added = set(meta) - set(doc.meta)
        assert added <= set(STAGE_NAMESPACES), f"{doc.kind}: undeclared keys {added}"


@pytest.mark.parametrize("kind", ["book", "repo", "trajectory"])
def test_every_reader_key_reaches_the_segment_index_unchanged(followed, kind: str) -> None:
    doc, rows = followed[kind]
    assert_reader_keys_survive(doc, rows)
    assert FILTER in json.loads(rows[0]["meta"])  # the filter ran and wrote its own namespace


@pytest.mark.parametrize("kind", ["book", "repo", "trajectory"])
def test_reader_keys_are_declared(followed, kind: str) -> None:
    doc, _ = followed[kind]
    assert set(doc.meta) <= declared_keys(kind), set(doc.meta) - declared_keys(kind)


@pytest.mark.parametrize("kind", ["repo", "trajectory"])
def test_tokenize_measures_the_readers_dependency_links(followed, kind: str) -> None:
    doc, rows = followed[kind]
    links = doc.meta.get("dependency_links") or doc.meta.get("dependency_edges")
    assert links, f"the {kind} fixture should carry dependency links"
    measured = json.loads(rows[0]["meta"])[TOKENIZE][DEPENDENCY_DISTANCES]
    assert len(measured["chars"]) == len(measured["tokens"]) == len(links)
    assert all(tokens <= chars for tokens, chars in zip(measured["tokens"], measured["chars"],
                                                        strict=True) if chars > 0)


def test_book_keeps_its_signals_beside_the_filters(followed) -> None:
    doc, rows = followed["book"]
    meta = json.loads(rows[0]["meta"])
    assert meta["language"] == "English" and meta[FILTER]["language"] == "en"
    assert meta["quality"] == doc.meta["quality"] and "score" in meta[FILTER]["quality"]
    assert doc.meta["chapters"] == 3 and doc.meta["encoding"]["name"] == "cp1252"
    # the report shows both: the reader's OCR signals and the filter's chunk score
    index = pl.DataFrame(rows).select("doc_id", "source", "meta")
    signals = quality_signals(index)["books"]
    assert {"alpha_fraction", "broken_hyphen_fraction", "page_number_line_fraction",
            "filter_score"} <= set(signals)
    assert signals["alpha_fraction"]["mean"] == doc.meta["quality"]["alpha_fraction"]


SHARED_BOOKS = sorted((SHARED_DATA / "books").glob("*.txt")) if (
    SHARED_DATA / "books").is_dir() else []


@pytest.mark.skipif(not SHARED_BOOKS, reason=f"no shared Gutenberg books at {SHARED_DATA}/books")
def test_a_real_gutenberg_book_keeps_every_reader_key(tmp_path: Path) -> None:
    smallest = min(SHARED_BOOKS, key=lambda p: p.stat().st_size)
    doc = collect_book(tmp_path, smallest.read_bytes(), smallest.name)
    before = json.loads(json.dumps(doc.meta))
    rows = to_index([doc])
    doc.meta = before
    assert doc.meta["quality"] and doc.meta["gutenberg"]["start_marker"]
    assert set(doc.meta) <= declared_keys("book")
    assert_reader_keys_survive(doc, rows)
