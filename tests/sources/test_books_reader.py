"""The `book` source kind end to end: locate, read every input format, reject per file."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from pydantic import ValidationError

from longweave.schemas.document import Document
from longweave.schemas.ledger import Rejected
from longweave.schemas.recipe_sources import BookOptions
from longweave.sources.books import BookReader
from longweave.sources.registry import reader_for

STORY = ("CHAPTER I\n\nThe rain fell on the little town all night, and in the morning the "
         "streets shone.\nNobody went out before noon.\n\nCHAPTER II\n\nAt noon the sun came "
         "out, and with it the whole town, blinking.\n")


def _read_all(locators: list[str], options: BookOptions) -> list[Document | Rejected]:
    return [item for loc in locators for item in BookReader.read("books", loc, options)]


def test_registry_and_options() -> None:
    assert reader_for("book") is BookReader
    assert BookReader.kind == "book"
    with pytest.raises(ValidationError):
        BookOptions(no_such_option=True)
    with pytest.raises(ValidationError, match="unknown encoding"):
        BookOptions(encoding="klingon-8")
    with pytest.raises(ValidationError, match="must start with a dot"):
        BookOptions(suffixes=["txt"])


def test_folder_of_text_files_with_a_truncated_gzip(tmp_path: Path) -> None:
    (tmp_path / "utf16.txt").write_bytes(STORY.replace("\n", "\r\n").encode("utf-16"))
    (tmp_path / "good.txt.gz").write_bytes(gzip.compress(STORY.encode("cp1252")))
    broken = tmp_path / "broken.txt.gz"
    broken.write_bytes(gzip.compress(STORY.encode() * 50)[:-30])
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "packed.txt.zst").write_bytes(
        zstandard.ZstdCompressor().compress(STORY.encode()))
    (tmp_path / "notes.md").write_text("not a book suffix")
    options = BookOptions()
    locators = BookReader.locate([str(tmp_path)], options)
    assert [Path(p).name for p in locators] == ["broken.txt.gz", "good.txt.gz",
                                                "packed.txt.zst", "utf16.txt"]
    results = _read_all(locators, options)
    rejected = [r for r in results if isinstance(r, Rejected)]
    docs = [d for d in results if isinstance(d, Document)]
    assert len(rejected) == 1 and len(docs) == 3
    assert rejected[0].locator == str(broken) and rejected[0].record == "file"
    assert rejected[0].error.startswith("TruncatedFile:") and str(broken) in rejected[0].error
    assert rejected[0].as_drop().reason == "quarantined:TruncatedFile"
    for doc in docs:
        assert doc.kind == "book"
        assert doc.text == STORY.strip()
        assert [s.label for s in doc.spans] == ["chapter:CHAPTER I", "chapter:CHAPTER II"]
        assert doc.meta["chapters"] == 2
    utf16 = next(d for d in docs if d.meta["path"].endswith("utf16.txt"))
    assert utf16.meta["encoding"]["name"] == "utf-16-le"
    assert utf16.meta["encoding"]["line_endings"] == "crlf"
    assert len({d.id for d in docs}) == 3


def test_jsonl_records_with_fields_and_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "books.jsonl"
    lines = [json.dumps({"book_id": "b1", "body": STORY, "name": "Rain", "year": 1900}),
             "{not json",
             json.dumps({"book_id": "b2", "name": "No text"}),
             json.dumps(["a", "list"]),
             json.dumps({"book_id": "b3", "body": "Line one.\r\nLine two.\u0085Three."})]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    options = BookOptions(text_field="body", id_field="book_id", title_field="name",
                          meta_fields=["year"])
    results = _read_all(BookReader.locate([str(tmp_path / "*.jsonl")], options), options)
    kinds = [type(r).__name__ for r in results]
    assert kinds == ["Document", "Rejected", "Rejected", "Rejected", "Document"]
    first, bad_json, no_text, not_object, last = results
    assert first.meta["title"] == "Rain" and first.meta["year"] == 1900
    assert bad_json.record == "line 2" and bad_json.error.startswith("JSONDecodeError")
    assert no_text.record == "line 3" and "'body'" in no_text.error
    assert not_object.error.startswith("TypeError")
    assert last.text == "Line one.\nLine two.\nThree."
    again = _read_all([str(path)], options)
    assert again[0].id == first.id != last.id


def test_parquet_records_keep_only_named_fields(tmp_path: Path) -> None:
    path = tmp_path / "pg19.parquet"
    table = pa.table({"text": [STORY, "   "], "short_book_title": ["Rain", "Blank"],
                      "publication_date": [1900, 1901], "url": ["u1", "u2"]})
    pq.write_table(table, path)
    options = BookOptions(title_field="short_book_title", meta_fields=["publication_date"],
                          min_chars=10)
    doc, empty = _read_all([str(path)], options)
    assert doc.meta["title"] == "Rain" and doc.meta["publication_date"] == 1900
    assert "url" not in doc.meta and doc.meta["record"] == "row 0"
    assert isinstance(empty, Rejected) and empty.error.startswith("EmptyBook")


def test_saved_datasets_dataset_and_local_hub_route(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    saved = tmp_path / "saved"
    datasets.Dataset.from_dict({"text": [STORY, STORY.upper()], "title": ["a", "b"]}
                               ).save_to_disk(str(saved))
    options = BookOptions()
    locators = BookReader.locate([str(saved)], options)
    assert locators and all(loc.endswith(".arrow") for loc in locators)
    docs = _read_all(locators, options)
    assert [d.meta["title"] for d in docs] == ["a", "b"]
    local = tmp_path / "hubish"
    local.mkdir()
    (local / "train.jsonl").write_text(json.dumps({"text": STORY, "title": "c"}) + "\n")
    hub_locator = f"hf://{local}"
    assert BookReader.locate([hub_locator], options) == [hub_locator]
    (doc,) = _read_all([hub_locator], options)
    assert doc.meta["title"] == "c" and doc.meta["path"] == hub_locator


def test_reflow_option_and_quality_before_reflow(tmp_path: Path) -> None:
    wrapped = ("CHAPTER I\n\nThe rain fell on the little town all night long and\n"
               "in the morning the streets shone under a pale sky and\nnobody went out.\n")
    path = tmp_path / "wrapped.txt"
    path.write_text(wrapped)
    (plain,) = BookReader.read("books", str(path), BookOptions())
    (flowed,) = BookReader.read("books", str(path), BookOptions(reflow=True))
    assert plain.text.count("\n") == 4
    assert flowed.text.endswith("all night long and in the morning the streets shone under a "
                                "pale sky and nobody went out.")
    assert flowed.meta["quality"] == plain.meta["quality"]
    assert [s.label for s in flowed.spans] == ["chapter:CHAPTER I"]


def test_missing_file_is_rejected_not_raised(tmp_path: Path) -> None:
    missing = str(tmp_path / "gone.txt")
    (rejected,) = BookReader.read("books", missing, BookOptions())
    assert isinstance(rejected, Rejected) and rejected.error.startswith("MissingFile")
