"""EPUB reading: spine order, clean XHTML text, OPF metadata, zip safety (built in the test)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from longweave.schemas.ledger import Rejected
from longweave.schemas.recipe_sources import BookOptions
from longweave.sources.books import BookReader
from longweave.sources.books.epub import EpubError, ZipLimits, read_epub
from longweave.sources.books.xhtml import xhtml_to_text

CONTAINER = """<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles><rootfile full-path="OEBPS/content.opf"
     media-type="application/oebps-package+xml"/></rootfiles>
</container>"""

OPF = """<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:title>The Test Voyage</dc:title>
    <dc:creator>Ada Writer</dc:creator>
    <dc:creator>Ben Helper</dc:creator>
    <dc:language>en</dc:language>
    <dc:date>1901-02-03</dc:date>
    <dc:identifier id="id">urn:uuid:1234</dc:identifier>
  </metadata>
  <manifest>
    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
    <item id="css" href="style.css" media-type="text/css"/>
    <item id="c2" href="Text/chapter%20two.xhtml" media-type="application/xhtml+xml"/>
    <item id="c1" href="Text/one.xhtml" media-type="application/xhtml+xml"/>
    <item id="extra" href="Text/extra.xhtml" media-type="application/xhtml+xml"/>
    <item id="title" href="title.xhtml" media-type="application/xhtml+xml"/>
  </manifest>
  <spine>
    <itemref idref="title"/><itemref idref="nav"/><itemref idref="c1"/>
    <itemref idref="extra" linear="no"/><itemref idref="c2"/>
  </spine>
</package>"""

PAGE = """<?xml version="1.0" encoding="utf-8"?>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">
<head><title>ignored head title</title><style>p {{ color: red; }}</style>
<script>var tracking = 1;</script></head>
<body>{body}</body></html>"""

CHAPTER_ONE = """<nav epub:type="landmarks"><a href="#x">Skip me</a></nav>
<h2>Chapter 1<br/>Departure</h2>
<p>The ship left   the harbour
 at dawn &amp; the crew sang&#8212;loudly.<a epub:type="noteref" href="#n1">1</a></p>
<p>Second paragraph.</p>
<aside epub:type="footnote" id="n1"><p>A real footnote.
<a role="doc-backlink" href="#r1">↩</a></p></aside>"""

CHAPTER_TWO = """<section><h2>Chapter 2</h2><p>They arrived.<a href="#r2">↩︎</a></p>
<div class="pg-boilerplate" id="pg-footer"><p>License text.</p></div></section>"""


def _epub(path: Path, extra_files: dict[str, str] | None = None) -> Path:
    files = {
        "META-INF/container.xml": CONTAINER,
        "OEBPS/content.opf": OPF,
        "OEBPS/nav.xhtml": PAGE.format(body="<nav epub:type='toc'><p>Contents</p></nav>"),
        "OEBPS/style.css": "p { margin: 0 }",
        "OEBPS/title.xhtml": PAGE.format(body="<h1>The Test Voyage</h1><p>by Ada Writer</p>"),
        "OEBPS/Text/one.xhtml": PAGE.format(body=CHAPTER_ONE),
        "OEBPS/Text/chapter two.xhtml": PAGE.format(body=CHAPTER_TWO),
        "OEBPS/Text/extra.xhtml": PAGE.format(body="<p>Auxiliary, not in reading order.</p>"),
        **(extra_files or {}),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        for name, content in files.items():
            archive.writestr(name, content)
    return path


def test_spine_order_text_and_metadata(tmp_path: Path) -> None:
    book = read_epub(_epub(tmp_path / "voyage.epub").read_bytes())
    assert book.text == (
        "The Test Voyage\n\nby Ada Writer\n\n"
        "Chapter 1\nDeparture\n\n"
        "The ship left the harbour at dawn & the crew sang—loudly.\n\n"
        "Second paragraph.\n\nA real footnote.\n\n"
        "Chapter 2\n\nThey arrived."
    )
    assert book.meta["title"] == "The Test Voyage"
    assert book.meta["author"] == "Ada Writer; Ben Helper"
    assert book.meta["language"] == "en"
    assert book.meta["date"] == "1901-02-03"
    assert book.meta["epub"]["spine_items"] == 3
    assert [h.label for h in book.headings] == ["The Test Voyage", "Chapter 1 Departure",
                                                "Chapter 2"]


def test_reader_gives_a_book_document_with_chapter_spans(tmp_path: Path) -> None:
    path = _epub(tmp_path / "voyage.epub")
    options = BookOptions()
    assert BookReader.locate([str(tmp_path / "*.epub")], options) == [str(path)]
    (doc,) = BookReader.read("books", str(path), options)
    assert doc.kind == "book" and doc.meta["format"] == "epub"
    labels = [s.label for s in doc.spans]
    assert labels == ["chapter:The Test Voyage", "chapter:Chapter 1 Departure",
                      "chapter:Chapter 2"]
    assert doc.text[doc.spans[1].start:].startswith("Chapter 1")
    assert doc.spans[-1].end == len(doc.text)
    assert "quality" in doc.meta


@pytest.mark.parametrize("options, kind", [
    ({"epub_max_entries": 3}, "ZipTooManyEntries"),
    ({"epub_max_expanded_bytes": 500}, "ZipTooLarge"),
])
def test_zip_caps_reject_the_file(tmp_path: Path, options: dict, kind: str) -> None:
    path = _epub(tmp_path / "big.epub")
    (rejected,) = BookReader.read("books", str(path), BookOptions(**options))
    assert isinstance(rejected, Rejected)
    assert rejected.locator == str(path) and rejected.record == "file"
    assert rejected.error.startswith(kind)


def test_budget_is_enforced_while_reading(tmp_path: Path) -> None:
    path = _epub(tmp_path / "voyage.epub")
    declared = sum(i.file_size for i in zipfile.ZipFile(path).infolist())
    read_epub(path.read_bytes(), ZipLimits(max_expanded_bytes=declared))
    with pytest.raises(EpubError, match="ZipTooLarge"):
        read_epub(path.read_bytes(), ZipLimits(max_expanded_bytes=declared - 1))


def test_drm_entity_bombs_and_garbage_are_rejected(tmp_path: Path) -> None:
    encrypted = _epub(tmp_path / "drm.epub", {"META-INF/encryption.xml": (
        '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
        'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData><enc:CipherData>'
        '<enc:CipherReference URI="OEBPS/Text/one.xhtml"/></enc:CipherData>'
        '</enc:EncryptedData></encryption>')})
    bomb = _epub(tmp_path / "bomb.epub", {"META-INF/container.xml": (
        '<?xml version="1.0"?><!DOCTYPE c [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        '<container>&b;</container>')})
    garbage = tmp_path / "garbage.epub"
    garbage.write_bytes(b"PK\x03\x04 this is not really a zip")
    errors = {}
    for path in (encrypted, bomb, garbage):
        (result,) = BookReader.read("books", str(path), BookOptions())
        assert isinstance(result, Rejected) and result.locator == str(path)
        errors[path.name] = result.error
    assert errors["drm.epub"].startswith("EncryptedEpub")
    assert errors["bomb.epub"].startswith("UnsafeXml")
    assert errors["garbage.epub"].startswith("BadZip")


def test_xhtml_keeps_pre_and_drops_hidden() -> None:
    converted = xhtml_to_text("<body><pre>a  b\n  c</pre><p hidden=''>secret</p>"
                              "<h3>Title</h3><p>x</p></body>")
    assert converted.text == "a  b\n  c\n\nTitle\n\nx"
    assert converted.headings == [(len("a  b\n  c\n\n"), len("a  b\n  c\n\nTitle"), 3,
                                   "Title")]
