"""What an input file really holds, decided from its bytes rather than its name.

A `README.md` that is gzip, a `.txt` that is a PDF or an executable: read by name, such a
file is decoded as text with thousands of replacement characters and dropped much later
as a quality failure, which hides the real problem. The readers of plain files (text,
book) sniff instead: compressed streams (gzip, bzip2, xz, zstd) are decompressed by magic
bytes, a zip is opened as an archive, and anything else that is not text (known binary
magic, a share of NUL and control bytes no text has) is rejected with that reason.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import posixpath
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from longweave.schemas.fs import open_binary

_CHUNK = 1 << 20
SNIFF_BYTES = 1 << 16  # the sample the binary test looks at
MAX_LAYERS = 3  # compression inside compression is followed this deep, then refused

COMPRESSION_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)
COMPRESSION_SUFFIXES: dict[str, str] = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz",
                                        ".zst": "zstd", ".zstd": "zstd"}
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
# Formats that are never text, by their first bytes (tar is found at offset 257).
BINARY_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "pdf"), (b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"), (b"GIF89a", "gif"), (b"\x7fELF", "elf executable"),
    (b"PAR1", "parquet"), (b"ARROW1", "arrow"), (b"SQLite format 3\x00", "sqlite"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole2 (legacy office)"), (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!\x1a\x07", "rar"), (b"\xca\xfe\xba\xbe", "java class"), (b"\x00asm", "wasm"),
    (b"OggS", "ogg"), (b"fLaC", "flac"), (b"ID3", "mp3"), (b"RIFF", "riff (wav/avi/webp)"),
)
_UNICODE_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
# Bytes no text file holds: C0 controls except tab, newlines, vertical tab, form feed,
# backspace (overstrike), ESC (terminal colour) and SUB (the DOS end-of-file mark).
_CONTROL_BYTES = bytes(set(range(0x20)) - set(b"\t\n\r\x0b\x0c\x08\x1b\x1a")) + b"\x7f"
MAX_NUL_SHARE = 0.001  # random binary has 1/256 = 0.4% NULs; text, none (UTF-16 aside)
MAX_CONTROL_SHARE = 0.02


class InputError(ValueError):
    """A file that cannot be read as a whole; the message starts with the error kind."""


@dataclass
class Content:
    """A file's bytes after decompression, with what was undone and what is left.

    `kind` is "text", "zip", or the name of a format that is not text ("binary" when only
    the byte statistics say so); `name` is the file name less its compression suffixes.
    """

    data: bytes
    kind: str
    name: str
    layers: list[str] = field(default_factory=list)
    evidence: str = ""

    def meta(self) -> dict[str, Any]:
        """What the reader undid, for the document's meta (empty for a plain file)."""
        return {"compression": self.layers} if self.layers else {}


def utf16_by_nul_pattern(sample: bytes) -> str | None:
    """UTF-16 without a BOM: mostly-Latin text has a NUL in every other byte."""
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    even_nul = even.count(0) / len(even)
    odd_nul = odd.count(0) / max(len(odd), 1)
    if odd_nul > 0.3 and even_nul < 0.05:
        return "utf-16-le"
    if even_nul > 0.3 and odd_nul < 0.05:
        return "utf-16-be"
    return None


def unicode_codec(data: bytes) -> str:
    """The codec of text that is Unicode by byte facts: a BOM or UTF-16's NUL pattern;
    UTF-8 otherwise (the readers' default)."""
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "utf-32"
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    return utf16_by_nul_pattern(data[:8192]) or "utf-8"


def compression_of(head: bytes) -> str | None:
    return next((name for magic, name in COMPRESSION_MAGIC if head.startswith(magic)), None)


def sniff(data: bytes) -> tuple[str, str]:
    """(kind, evidence) of uncompressed bytes: "text", "zip", a binary format or "binary"."""
    head = data[:SNIFF_BYTES]
    if head.startswith(ZIP_MAGIC):
        return "zip", "zip magic bytes"
    for magic, name in BINARY_MAGIC:
        if head.startswith(magic):
            return name, f"{name} magic bytes {magic[:8]!r}"
    if len(head) > 262 and head[257:262] == b"ustar":
        return "tar", "tar header (ustar at byte 257)"
    if head.startswith(_UNICODE_BOMS) or utf16_by_nul_pattern(head[:8192]):
        return "text", ""
    if not head:
        return "text", ""
    nul = head.count(0) / len(head)
    control = (len(head) - len(head.translate(None, _CONTROL_BYTES))) / len(head)
    if nul > MAX_NUL_SHARE or control > MAX_CONTROL_SHARE:
        return "binary", (f"{nul:.1%} NUL bytes and {control:.1%} control bytes in the "
                          f"first {len(head)} bytes")
    return "text", ""


def inner_name(name: str) -> str:
    """`notes.jsonl.gz` -> `notes.jsonl`: the name of what a compressed file holds."""
    for suffix in COMPRESSION_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def decompressor(kind: str, handle: BinaryIO) -> BinaryIO:
    """A stream that decompresses `handle` (gzip, bzip2, xz or zstd)."""
    if kind == "gzip":
        return gzip.GzipFile(fileobj=handle)  # type: ignore[return-value]
    if kind == "bzip2":
        return bz2.BZ2File(handle)  # type: ignore[return-value]
    if kind == "xz":
        return lzma.LZMAFile(handle)  # type: ignore[return-value]
    if kind == "zstd":
        return io.BufferedReader(_ZstdReader(handle), _CHUNK)  # type: ignore[return-value]
    raise ValueError(f"not a compression: {kind}")


@contextmanager
def open_content(path: str, what: str = "text") -> Iterator[BinaryIO]:
    """A stream of the file's content, every compression layer undone by its magic bytes.

    The first `SNIFF_BYTES` of the content are sniffed before anything is handed out: a
    stream that is not text raises `InputError` (`NotText: ...`), so a record reader does
    not reject a binary file line by line. Every layer is closed on exit.
    """
    raw = open_binary(path)
    stream: BinaryIO = raw
    layers: list[str] = []
    try:
        while (kind := compression_of(_peek(stream))) is not None:
            if len(layers) == MAX_LAYERS:
                raise InputError(f"TooManyLayers: {path} is compressed more than "
                                 f"{MAX_LAYERS} deep")
            layers.append(kind)
            stream = decompressor(kind, stream)
        head = stream.read(SNIFF_BYTES)
        kind, evidence = sniff(head)
        if kind != "text":
            content = Content(b"", kind, posixpath.basename(path), layers, evidence)
            raise InputError(not_text_error(path, content, what))
        yield io.BufferedReader(_Prefixed(head, stream), _CHUNK)  # type: ignore[misc]
    finally:
        if stream is not raw:
            stream.close()
        raw.close()


class _Prefixed(io.RawIOBase):
    """Bytes already read for sniffing, then the rest of the stream."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _peek(stream: BinaryIO) -> bytes:
    peek: Callable[[int], bytes] | None = getattr(stream, "peek", None)
    if peek is not None:
        return peek(8)[:8]
    position = stream.tell()
    head = stream.read(8)
    stream.seek(position)
    return head


def read_content(path: str, max_bytes: int) -> Content:
    """The whole file, decompressed by content and sniffed; a corrupt, truncated or
    over-long file raises `InputError` naming it."""
    chunks: list[bytes] = []
    total = 0
    layers: list[str] = []
    try:
        with open_binary(path) as raw:
            stream: BinaryIO = raw
            for _ in range(MAX_LAYERS + 1):
                kind = compression_of(_peek(stream))
                if kind is None:
                    break
                if len(layers) == MAX_LAYERS:
                    raise InputError(f"TooManyLayers: {path} is compressed more than "
                                     f"{MAX_LAYERS} deep")
                layers.append(kind)
                stream = decompressor(kind, stream)
            while chunk := stream.read(_CHUNK):
                total += len(chunk)
                if total > max_bytes:
                    raise InputError(f"FileTooLarge: {path} expands past {max_bytes} bytes")
                chunks.append(chunk)
    except InputError:
        raise
    except ImportError as error:
        raise InputError(f"UnsupportedCompression: {path} is {layers[-1]}, which needs "
                         f"{error.name or error}") from None
    except EOFError as error:
        raise InputError(f"TruncatedFile: {path} ends early ({error})") from None
    except (OSError, ValueError, lzma.LZMAError) as error:
        if isinstance(error, FileNotFoundError):
            raise InputError(f"MissingFile: {path}") from None
        raise InputError(f"CorruptFile: {path}: {type(error).__name__}: {error}") from None
    data = b"".join(chunks)
    kind, evidence = sniff(data)
    name = posixpath.basename(path)
    for _ in layers:
        name = inner_name(name)
    return Content(data=data, kind=kind, name=name, layers=layers, evidence=evidence)


def not_text_error(path: str, content: Content, what: str) -> str:
    """The quarantine message for content a reader cannot take, naming what it really is."""
    undone = f" (after undoing {'+'.join(content.layers)})" if content.layers else ""
    why = f": {content.evidence}" if content.evidence else ""
    return f"NotText: {path}{undone} holds {content.kind}, not {what}{why}"


@dataclass(frozen=True)
class ZipLimits:
    max_entries: int = 10_000
    max_expanded_bytes: int = 512 * 1024 * 1024


class BudgetedZip:
    """Reads members of an untrusted zip while counting real expanded bytes against a
    budget (checked against the headers first, then while reading, since headers lie)."""

    def __init__(self, archive: zipfile.ZipFile, limits: ZipLimits,
                 error: type[ValueError] = InputError) -> None:
        infos = archive.infolist()
        if len(infos) > limits.max_entries:
            raise error(f"ZipTooManyEntries: {len(infos)} entries, limit {limits.max_entries}")
        declared = sum(info.file_size for info in infos)
        if declared > limits.max_expanded_bytes:
            raise error(f"ZipTooLarge: {declared} bytes expanded, "
                        f"limit {limits.max_expanded_bytes}")
        self.archive = archive
        self.error = error
        self.infos = infos
        self.names = {info.filename for info in infos}
        self.remaining = limits.max_expanded_bytes

    def read(self, name: str) -> bytes:
        chunks: list[bytes] = []
        with self.archive.open(name) as member:
            while chunk := member.read(_CHUNK):
                self.remaining -= len(chunk)
                if self.remaining < 0:
                    raise self.error(f"ZipTooLarge: expanding {name} passes the size limit")
                chunks.append(chunk)
        return b"".join(chunks)

    def files(self) -> list[str]:
        """Regular members in archive order, without folders and macOS resource forks."""
        return [info.filename for info in self.infos
                if not info.is_dir() and not info.filename.startswith("__MACOSX/")
                and (info.external_attr >> 16) & 0o170000 != 0o120000]  # no symlinks


def open_zip(data: bytes, path: str, limits: ZipLimits) -> BudgetedZip:
    """An in-memory zip with its budget; a broken zip is an `InputError` naming `path`."""
    try:
        return BudgetedZip(zipfile.ZipFile(io.BytesIO(data)), limits)
    except zipfile.BadZipFile as error:
        raise InputError(f"BadZip: {path}: {error}") from None


def is_epub(archive: BudgetedZip) -> bool:
    """An EPUB is a zip whose `mimetype` member says so (or that has an OPF container)."""
    if "mimetype" in archive.names:
        with archive.archive.open("mimetype") as member:
            return member.read(64).strip() == b"application/epub+zip"
    return "META-INF/container.xml" in archive.names


class _ZstdReader(io.RawIOBase):
    """Zstandard frames in sequence; unlike `stream_reader`, a cut-off frame is an EOFError."""

    def __init__(self, handle: BinaryIO) -> None:
        import zstandard

        self._zstandard = zstandard
        self._handle = handle
        self._decoder = zstandard.ZstdDecompressor().decompressobj()
        self._pending = b""
        self._exhausted = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending and not self._exhausted:
            chunk = self._handle.read(_CHUNK)
            if not chunk:
                self._exhausted = True
                if not self._decoder.eof:
                    raise EOFError("zstd stream ended before the end of its frame")
                break
            if self._decoder.eof:  # a further frame follows the finished one
                self._decoder = self._zstandard.ZstdDecompressor().decompressobj()
            self._pending = self._decode(chunk)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def _decode(self, chunk: bytes) -> bytes:
        out = self._decoder.decompress(chunk)
        while self._decoder.eof and self._decoder.unused_data:
            rest = self._decoder.unused_data
            self._decoder = self._zstandard.ZstdDecompressor().decompressobj()
            out += self._decoder.decompress(rest)
        return out

    def close(self) -> None:
        self._handle.close()
        super().close()
