"""EPUB files: the spine in reading order as one text, chapter headings, and OPF metadata.

container.xml names the OPF package; its manifest maps ids to files and its spine lists
them in reading order. An EPUB is an untrusted zip, so the number of entries and the
expanded size are capped (checked against the headers, then enforced while reading, since
headers can lie), and XML with entity declarations is refused.
"""

from __future__ import annotations

import io
import posixpath
import xml.etree.ElementTree as ElementTree
import zipfile
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from longweave.sources.books.chapters import Heading, headings_from_marked
from longweave.sources.books.decode import decode_bytes
from longweave.sources.books.xhtml import xhtml_to_text
from longweave.sources.content import BudgetedZip, ZipLimits

__all__ = ["EpubBook", "EpubError", "ZipLimits", "read_epub"]

_XHTML_TYPES = frozenset({"application/xhtml+xml", "text/html", "application/xml"})
DEFAULT_LIMITS = ZipLimits()


class EpubError(ValueError):
    """An EPUB that cannot be read safely; the message starts with the error kind."""


@dataclass
class EpubBook:
    text: str
    headings: list[Heading]
    meta: dict[str, Any] = field(default_factory=dict)


def _parse_xml(data: bytes, name: str) -> ElementTree.Element:
    if b"<!ENTITY" in data:
        raise EpubError(f"UnsafeXml: {name} declares entities")
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as error:
        raise EpubError(f"BadXml: {name}: {error}") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: ElementTree.Element, name: str) -> list[ElementTree.Element]:
    return [child for child in element.iter() if _local(child.tag) == name]


def read_epub(data: bytes, limits: ZipLimits = DEFAULT_LIMITS) -> EpubBook:
    """Read an EPUB held in memory; raises `EpubError` (or zipfile errors) when it cannot."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise EpubError(f"BadZip: {error}") from None
    with archive:
        zip_reader = BudgetedZip(archive, limits, EpubError)
        _refuse_drm(zip_reader)
        opf_path = _package_path(zip_reader)
        package = _parse_xml(_member(zip_reader, opf_path), opf_path)
        meta = opf_metadata(package)
        spine = _spine_paths(package, posixpath.dirname(opf_path))
        texts: list[str] = []
        marked: list[tuple[int, int, int, str]] = []
        missing: list[str] = []
        offset = 0
        for path in spine:
            if path not in zip_reader.names:
                missing.append(path)
                continue
            chapter = xhtml_to_text(decode_bytes(zip_reader.read(path)).text)
            if not chapter.text:
                continue
            if texts:
                texts.append("\n\n")
                offset += 2
            marked.extend((offset + s, offset + e, level, title)
                          for s, e, level, title in chapter.headings)
            texts.append(chapter.text)
            offset += len(chapter.text)
    text = "".join(texts)
    meta["epub"] = {"opf": opf_path, "spine_items": len(spine),
                    **({"missing_items": missing} if missing else {})}
    return EpubBook(text=text, headings=headings_from_marked(text, marked), meta=meta)


def _member(zip_reader: BudgetedZip, name: str) -> bytes:
    if name not in zip_reader.names:
        raise EpubError(f"MissingEntry: {name} is not in the archive")
    return zip_reader.read(name)


def _refuse_drm(zip_reader: BudgetedZip) -> None:
    """Font obfuscation also uses encryption.xml; only encrypted text is refused."""
    name = "META-INF/encryption.xml"
    if name not in zip_reader.names:
        return
    root = _parse_xml(zip_reader.read(name), name)
    for reference in _children(root, "CipherReference"):
        uri = reference.get("URI", "")
        if uri.lower().endswith((".xhtml", ".html", ".htm", ".xml")):
            raise EpubError(f"EncryptedEpub: {uri} is encrypted (DRM)")


def _package_path(zip_reader: BudgetedZip) -> str:
    name = "META-INF/container.xml"
    container = _parse_xml(_member(zip_reader, name), name)
    for rootfile in _children(container, "rootfile"):
        media = rootfile.get("media-type", "application/oebps-package+xml")
        if rootfile.get("full-path") and media == "application/oebps-package+xml":
            return rootfile.get("full-path", "")
    raise EpubError("MissingPackage: container.xml names no OPF rootfile")


def opf_metadata(package: ElementTree.Element) -> dict[str, Any]:
    """Dublin Core fields of the OPF: title, author(s), language, date, identifier..."""
    meta: dict[str, Any] = {}
    block = next(iter(_children(package, "metadata")), None)
    if block is None:
        return meta

    def values(name: str) -> list[str]:
        return [" ".join((e.text or "").split()) for e in _children(block, name)
                if (e.text or "").strip()]

    for field_name, key in (("title", "title"), ("language", "language"), ("date", "date"),
                            ("identifier", "identifier"), ("publisher", "publisher")):
        found = values(field_name)
        if found:
            meta[key] = found[0]
    creators = values("creator")
    if creators:
        meta["author"] = "; ".join(creators)
    subjects = values("subject")
    if subjects:
        meta["subjects"] = subjects
    return meta


def _spine_paths(package: ElementTree.Element, base: str) -> list[str]:
    """Archive paths of the linear spine items, in reading order, navigation excluded."""
    manifest: dict[str, ElementTree.Element] = {
        item.get("id", ""): item for item in _children(package, "item")}
    paths: list[str] = []
    for ref in _children(package, "itemref"):
        item = manifest.get(ref.get("idref", ""))
        if item is None or ref.get("linear", "yes") == "no":
            continue
        if "nav" in item.get("properties", "").split():
            continue
        if item.get("media-type", "application/xhtml+xml") not in _XHTML_TYPES:
            continue
        href = unquote(item.get("href", "").split("#", 1)[0])
        paths.append(posixpath.normpath(posixpath.join(base, href)))
    if not paths:
        raise EpubError("EmptySpine: the OPF spine lists no readable XHTML")
    return paths
