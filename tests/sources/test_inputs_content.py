"""Inputs that are not what their name says: the text and book readers go by content.

Compressed files are undone by magic bytes whatever their suffix, a zip is opened as an
archive (an EPUB under a `.txt` name is still read as an EPUB), and a file that is not
text (binary magic, NUL and control bytes) is one `Rejected` with the reason, never a
document of replacement characters.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import random
import zipfile
from pathlib import Path

import pytest

from longweave.schemas.document import Document
from longweave.schemas.ledger import Rejected
from longweave.schemas.recipe_sources import BookOptions, TextOptions
from longweave.sources.books import BookReader
from longweave.sources.content import sniff
from longweave.sources.text import TextReader
from tests.conftest import shared_book_paths
from tests.sources.test_books_epub import _epub

PROSE = ("The lane ran down to the river past the mill, and the barns stood dark "
         "against the evening sky. ") * 30
BOOK = "\n\n".join(f"CHAPTER {n}.\n\n{PROSE}" for n in ("I", "II", "III"))


def _binary(size: int = 20_000, seed: int = 3) -> bytes:
    return random.Random(seed).randbytes(size)


def _read(reader: type, paths: list[Path], options: object) -> tuple[list[Document],
                                                                       list[Rejected]]:
    docs: list[Document] = []
    rejected: list[Rejected] = []
    for locator in reader.locate([str(p) for p in paths], options):
        for item in reader.read("s", locator, options):
            (rejected if isinstance(item, Rejected) else docs).append(item)
    return docs, rejected


@pytest.mark.parametrize("compress, layer", [
    (gzip.compress, "gzip"), (bz2.compress, "bzip2"), (lzma.compress, "xz")])
def test_text_named_plain_but_compressed_is_decompressed(tmp_path: Path, compress,
                                                         layer: str) -> None:
    path = tmp_path / "README.md"
    path.write_bytes(compress(PROSE.encode()))
    docs, rejected = _read(TextReader, [path], TextOptions())
    assert not rejected
    (doc,) = docs
    assert doc.text == PROSE and doc.meta["compression"] == [layer]


def test_text_gz_suffix_and_jsonl_by_content(tmp_path: Path) -> None:
    (tmp_path / "README.gz").write_bytes(gzip.compress(b"# Title\n\nSome words here.\n"))
    lines = "".join(json.dumps({"text": f"record {i}"}) + "\n" for i in range(3))
    (tmp_path / "data.jsonl").write_bytes(gzip.compress(lines.encode()))  # misnamed: gzip
    (tmp_path / "more.jsonl.xz").write_bytes(lzma.compress(lines.encode()))
    options = TextOptions(suffixes=[".gz", ".jsonl", ".xz"])
    docs, rejected = _read(TextReader, [tmp_path], options)
    assert not rejected
    by_title = {d.meta.get("title"): d for d in docs}
    assert by_title["README.gz"].text.startswith("# Title")
    assert sorted(d.text for d in docs if d.meta.get("title") is None) == sorted(
        [f"record {i}" for i in range(3)] * 2)


def test_binary_named_txt_is_rejected_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_bytes(_binary())
    (tmp_path / "scan.txt").write_bytes(b"%PDF-1.7\n" + _binary(2000))
    (tmp_path / "logo.md").write_bytes(gzip.compress(b"\x89PNG\r\n\x1a\n" + _binary(500)))
    (tmp_path / "rows.jsonl").write_bytes(_binary())
    docs, rejected = _read(TextReader, [tmp_path], TextOptions())
    assert docs == []
    errors = {Path(r.locator).name: r.error for r in rejected}
    assert len(rejected) == 4  # one per file: a binary JSONL is not rejected line by line
    assert errors["notes.txt"].startswith("NotText:") and "NUL bytes" in errors["notes.txt"]
    assert "holds pdf" in errors["scan.txt"]
    assert "after undoing gzip" in errors["logo.md"] and "holds png" in errors["logo.md"]
    assert "notes.txt" in errors["notes.txt"]  # the message names the file
    assert all(r.as_drop().reason == "quarantined:NotText" for r in rejected)


def test_zip_of_text_members(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("docs/a.md", "# A\n\nalpha text")
        archive.writestr("docs/b.txt", "beta text")
        archive.writestr("docs/logo.png", b"\x89PNG\r\n\x1a\n" + _binary(100))
        archive.writestr("docs/", "")
    (tmp_path / "bundle.txt").write_bytes(buffer.getvalue())
    docs, rejected = _read(TextReader, [tmp_path], TextOptions())
    assert sorted((d.meta["record"], d.text) for d in docs) == [
        ("docs/a.md", "# A\n\nalpha text"), ("docs/b.txt", "beta text")]
    assert len({d.id for d in docs}) == 2
    (skipped,) = rejected
    assert "docs/logo.png (png)" in skipped.error


def test_utf16_text_is_text_not_binary(tmp_path: Path) -> None:
    (tmp_path / "wide.txt").write_bytes(PROSE.encode("utf-16-le"))
    (tmp_path / "bom.txt").write_bytes(PROSE.encode("utf-16"))
    docs, rejected = _read(TextReader, [tmp_path], TextOptions())
    assert not rejected
    assert [d.text for d in docs] == [PROSE, PROSE]


def test_corrupt_and_truncated_compression_is_rejected_naming_the_file(tmp_path: Path
                                                                      ) -> None:
    (tmp_path / "cut.txt").write_bytes(gzip.compress(PROSE.encode())[:-30])
    (tmp_path / "bad.txt").write_bytes(b"\x1f\x8b" + _binary(200))
    docs, rejected = _read(TextReader, [tmp_path], TextOptions())
    assert docs == []
    errors = {Path(r.locator).name: r.error for r in rejected}
    assert errors["cut.txt"].startswith("TruncatedFile:") and "cut.txt" in errors["cut.txt"]
    assert errors["bad.txt"].startswith("CorruptFile:")


def test_book_by_content(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(bz2.compress(BOOK.encode("cp1252")))
    (tmp_path / "b.txt").write_bytes(_binary())
    _epub(tmp_path / "c.txt")  # an EPUB under a .txt name
    docs, rejected = _read(BookReader, [tmp_path], BookOptions())
    by_name = {Path(d.meta["path"]).name: d for d in docs}
    assert by_name["a.txt"].meta["compression"] == ["bzip2"]
    assert by_name["a.txt"].meta["chapters"] == 3
    assert by_name["c.txt"].meta["format"] == "epub"
    assert by_name["c.txt"].meta["title"] == "The Test Voyage"
    (bad,) = rejected
    assert Path(bad.locator).name == "b.txt" and bad.error.startswith("NotText:")
    assert "not a book" in bad.error


def test_gutenberg_style_zip_of_a_book(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("1234/1234.txt", BOOK)
        archive.writestr("1234/cover.jpg", b"\xff\xd8\xff\xe0" + _binary(300))
    (tmp_path / "1234.txt").write_bytes(buffer.getvalue())
    docs, rejected = _read(BookReader, [tmp_path], BookOptions())
    (doc,) = docs
    assert doc.meta["record"] == "1234/1234.txt" and doc.meta["compression"] == ["zip"]
    assert doc.meta["chapters"] == 3
    (skipped,) = rejected
    assert "1234/cover.jpg (jpeg)" in skipped.error


def test_book_records_that_are_binary_are_one_rejection(tmp_path: Path) -> None:
    (tmp_path / "books.jsonl").write_bytes(_binary())
    (tmp_path / "ok.jsonl").write_bytes(
        gzip.compress((json.dumps({"text": BOOK, "title": "T"}) + "\n").encode()))
    docs, rejected = _read(BookReader, [tmp_path], BookOptions())
    assert [d.meta["title"] for d in docs] == ["T"]
    (bad,) = rejected
    assert Path(bad.locator).name == "books.jsonl" and bad.error.startswith("NotText:")


def test_real_cp1252_books_are_text() -> None:
    """Windows-1252 Gutenberg files with CRLF (real data) must not look binary."""
    books = shared_book_paths()
    assert [sniff(p.read_bytes())[0] for p in books] == ["text"] * len(books)
