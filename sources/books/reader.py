"""The `book` source kind: files, EPUBs and record datasets to cleaned, chaptered Documents."""

from __future__ import annotations

from collections.abc import Iterator

from longweave.schemas.document import Document, make_document_id
from longweave.schemas.ledger import Rejected
from longweave.schemas.meta import QUALITY, BookMeta, record_meta
from longweave.schemas.recipe_sources import (
    BOOK_RECORD_SUFFIXES,
    EPUB_SUFFIXES,
    HUB_PREFIX,
    BookOptions,
)
from longweave.sources.base import SourceReader, files_under, safe_read
from longweave.sources.books.chapters import Heading, chapter_spans, find_headings
from longweave.sources.books.decode import decode_bytes, normalise_text
from longweave.sources.books.epub import EpubError, read_epub
from longweave.sources.books.gutenberg import (
    drop_production_notes,
    looks_like_gutenberg,
    strip_gutenberg,
)
from longweave.sources.books.inputs import iter_records
from longweave.sources.books.quality import quality_signals
from longweave.sources.books.reflow import reflow_paragraphs
from longweave.sources.content import (
    Content,
    InputError,
    ZipLimits,
    inner_name,
    is_epub,
    not_text_error,
    open_zip,
    read_content,
    sniff,
)

WHOLE_FILE = "file"
TEXT_MEMBER_SUFFIXES = (".txt", ".text")  # zip members read as plain-text books
# Book keys the reader measures itself: a kept record field of the same name goes under
# meta["fields"] instead of replacing one (title and author come from the record anyway).
MEASURED_KEYS = frozenset({"path", "record", "format", "encoding", QUALITY, "chapters",
                           "gutenberg", "notes_dropped_chars", "compression"})


class BookReader(SourceReader):
    """Books from `.txt(.gz|.zst)`, `.epub`, JSONL / Parquet / Arrow records, or `hf://<id>`.

    Plain files are read by content (`sources.content`), whatever their name says.
    """

    kind = "book"

    @classmethod
    def locate(cls, paths: list[str], options: BookOptions) -> list[str]:
        hub = [p for p in paths if p.startswith(HUB_PREFIX)]
        files = files_under([p for p in paths if not p.startswith(HUB_PREFIX)],
                            tuple(options.suffixes))
        return sorted({*files, *hub})

    @classmethod
    def read(cls, source: str, locator: str, options: BookOptions
             ) -> Iterator[Document | Rejected]:
        if locator.startswith(HUB_PREFIX) or locator.endswith(BOOK_RECORD_SUFFIXES):
            reader = _read_records(source, locator, options)
        elif locator.endswith(EPUB_SUFFIXES):
            reader = _read_epub(source, locator, options)
        else:
            reader = _read_text(source, locator, options)
        return safe_read(source, locator, _rejecting_input_errors(source, locator, reader))


def _rejecting_input_errors(source: str, locator: str, reader: Iterator[Document | Rejected]
                            ) -> Iterator[Document | Rejected]:
    """A file-level failure (truncated archive, bad zip) is one clear `Rejected` for it."""
    try:
        yield from reader
    except (InputError, EpubError) as error:
        yield Rejected(source=source, locator=locator, record=WHOLE_FILE, error=str(error))


def _read_text(source: str, locator: str, options: BookOptions
               ) -> Iterator[Document | Rejected]:
    """A plain-text book, by content: compressed is undone, a zip is opened (an EPUB
    inside a `.txt` name is still an EPUB), anything else that is not text is rejected."""
    content = read_content(locator, options.max_file_bytes)
    if content.kind == "zip":
        yield from _read_zip(source, locator, content, options)
    elif content.kind != "text":
        yield Rejected(source, locator, WHOLE_FILE, not_text_error(locator, content, "a book"))
    else:
        decoded = decode_bytes(content.data, options.encoding)
        meta: BookMeta = {"path": locator, "format": "txt", "encoding": decoded.meta(),
                          **content.meta()}
        yield build_book(source, locator, WHOLE_FILE, decoded.text, meta, options)


def _read_epub(source: str, locator: str, options: BookOptions
               ) -> Iterator[Document | Rejected]:
    content = read_content(locator, options.max_file_bytes)
    if content.kind != "zip":
        yield Rejected(source, locator, WHOLE_FILE, not_text_error(locator, content, "an EPUB"))
        return
    yield _epub_book(source, locator, WHOLE_FILE, content.data, options, content.meta())


def _epub_book(source: str, locator: str, unit: str, data: bytes, options: BookOptions,
               extra: BookMeta) -> Document | Rejected:
    limits = ZipLimits(options.epub_max_entries, options.epub_max_expanded_bytes)
    book = read_epub(data, limits)
    meta: BookMeta = {"path": locator, "format": "epub", **book.meta, **extra}
    if unit != WHOLE_FILE:
        meta["record"] = unit
    return build_book(source, locator, unit, book.text, meta, options, headings=book.headings)


def _read_zip(source: str, locator: str, content: Content, options: BookOptions
              ) -> Iterator[Document | Rejected]:
    """A zip that is not named `.epub`: an EPUB by content, else one book per text member
    (Gutenberg ships `<n>.zip` holding `<n>.txt`); other members are listed in a Rejected."""
    limits = ZipLimits(options.epub_max_entries, options.epub_max_expanded_bytes)
    archive = open_zip(content.data, locator, limits)
    if is_epub(archive):
        yield _epub_book(source, locator, WHOLE_FILE, content.data, options,
                         {**content.meta(), "format": "epub"})
        return
    skipped: list[str] = []
    for name in archive.files():
        member = name.rsplit("/", 1)[-1]
        data = archive.read(name)
        kind, evidence = sniff(data)
        if kind != "text" or not inner_name(member).endswith(TEXT_MEMBER_SUFFIXES):
            skipped.append(f"{name} ({kind})")
            continue
        decoded = decode_bytes(data, options.encoding)
        meta: BookMeta = {"path": locator, "record": name, "format": "txt",
                          "encoding": decoded.meta(),
                          "compression": [*content.layers, "zip"]}
        yield build_book(source, locator, name, decoded.text, meta, options)
    if skipped:
        yield Rejected(source, locator, WHOLE_FILE,
                       f"NotText: {len(skipped)} zip members are not text books: "
                       + ", ".join(skipped[:20]))


def _read_records(source: str, locator: str, options: BookOptions
                  ) -> Iterator[Document | Rejected]:
    for key, record in iter_records(locator, options):
        if isinstance(record, Exception):
            yield Rejected(source, locator, key, str(record))
            continue
        if not isinstance(record, dict):
            yield Rejected(source, locator, key,
                           f"TypeError: record is {type(record).__name__}, not an object")
            continue
        text = record.get(options.text_field)
        if not isinstance(text, str):
            yield Rejected(source, locator, key,
                           f"KeyError: field {options.text_field!r} missing or not a string")
            continue
        ident = record.get(options.id_field) if options.id_field else None
        unit = str(ident) if ident is not None else key
        meta: BookMeta = record_meta(record, options.meta_fields, MEASURED_KEYS)
        for field_name, key_name in ((options.title_field, "title"),
                                     (options.author_field, "author")):
            if field_name and record.get(field_name) not in (None, ""):
                meta[key_name] = record[field_name]
        text, details = normalise_text(text)
        meta.update({"path": locator, "record": key, "format": "record",
                     "encoding": {"name": "unicode", "method": "record-field", **details}})
        yield build_book(source, locator, unit, text, meta, options)


def build_book(source: str, locator: str, unit: str, text: str, meta: BookMeta,
               options: BookOptions, headings: list[Heading] | None = None
               ) -> Document | Rejected:
    """Clean one decoded book and find its chapters; pure, so tests call it directly.

    `headings` come from markup (EPUB) and refer to `text` as given, so that text is not
    re-cut; plain text gets Gutenberg stripping, note removal, reflow and heading detection.
    """
    if headings is None:
        text = _clean_plain(text, meta, options)
    if len(text.strip()) < max(options.min_chars, 1):
        return Rejected(source, locator, unit,
                        f"EmptyBook: {len(text.strip())} characters of text after cleaning")
    meta[QUALITY] = quality_signals(text)
    if headings is None and options.reflow:
        text = reflow_paragraphs(text)
    spans = []
    if options.detect_chapters:
        found = find_headings(text) if headings is None else headings
        spans = chapter_spans(text, found)
        meta["chapters"] = len(found)
    doc_unit = locator if unit == WHOLE_FILE else f"{locator}#{unit}"
    return Document(id=make_document_id(source, doc_unit), source=source, kind="book",
                    text=text, spans=spans, meta=meta)


def _clean_plain(text: str, meta: BookMeta, options: BookOptions) -> str:
    if options.strip_gutenberg and looks_like_gutenberg(text):
        book = strip_gutenberg(text)
        text = book.body
        for key, value in book.meta.items():
            meta.setdefault(key, value)
        if book.start_marker or book.end_marker:
            meta["gutenberg"] = {"start_marker": book.start_marker,
                                 "end_marker": book.end_marker}
    if options.drop_production_notes:
        text, dropped = drop_production_notes(text)
        if dropped:
            meta["notes_dropped_chars"] = dropped
    return text.strip()
