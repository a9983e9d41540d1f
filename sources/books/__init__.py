"""Books and long-form text: Gutenberg dumps, EPUBs, text folders and record datasets.

Pure parts (testable without Beam): `decode`, `gutenberg`, `chapters`, `epub`, `xhtml`,
`quality`, `reflow`; `reader.BookReader` wires them into the source-reader contract.
"""

from longweave.sources.books.reader import BookReader, build_book

__all__ = ["BookReader", "build_book"]
