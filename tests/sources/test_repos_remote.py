"""Repositories as archives on a remote store (`memory://`, object-store semantics) are read
through FileSystems, giving the same document as the same archive on local disk."""

from __future__ import annotations

import io
import sys
import tarfile
import zipfile
from pathlib import Path

from longweave.schemas import fs
from longweave.schemas.document import Document
from longweave.schemas.ledger import Rejected
from longweave.schemas.recipe_sources import RepoOptions
from longweave.sources.repos import RepoReader

PIPELINE_TESTS = str(Path(__file__).resolve().parents[1] / "pipeline")
if PIPELINE_TESTS not in sys.path:  # the memory:// filesystem the pipeline tests define
    sys.path.insert(0, PIPELINE_TESTS)
from test_remote_memfs import MemoryObjectStore, clear  # noqa: E402

assert MemoryObjectStore.scheme() == "memory"
BUCKET = "repos-remote"
FILES = {"app/main.py": "from app import util\nprint(util.VALUE)\n",
         "app/util.py": "VALUE = 42\n", "app/__init__.py": ""}


def archive_bytes(kind: str) -> bytes:
    buffer = io.BytesIO()
    if kind == "zip":
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, text in FILES.items():
                archive.writestr(f"demo-1.0/{name}", text)
    else:
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            for name, text in FILES.items():
                data = text.encode()
                info = tarfile.TarInfo(f"demo-1.0/{name}")
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def upload(path: str, data: bytes) -> None:
    fs.write_bytes(path, data)  # as stored: never compressed again because of the suffix


def read_all(paths: list[str]) -> list[Document | Rejected]:
    options = RepoOptions()
    return [item for locator in RepoReader.locate(paths, options)
            for item in RepoReader.read("code", locator, options)]


def test_remote_archives_read_like_local_ones(tmp_path: Path) -> None:
    clear(BUCKET)
    for kind, name in (("zip", "demo-1.0.zip"), ("tar", "demo-1.0.tar.gz")):
        data = archive_bytes(kind)
        (tmp_path / name).write_bytes(data)
        upload(f"memory://{BUCKET}/code/{name}", data)
        [local] = read_all([str(tmp_path / name)])
        [remote] = read_all([f"memory://{BUCKET}/code/{name}"])
        assert isinstance(remote, Document), remote
        assert remote.text == local.text and remote.spans == local.spans
        assert remote.meta["input"] == "archive" and remote.meta["repo"] == "demo-1.0"
        assert remote.meta["path"] == f"memory://{BUCKET}/code/{name}"
        assert remote.meta["graph"]["edges"] == local.meta["graph"]["edges"] >= 1
    # a remote prefix lists the archives under it, and a glob matches them
    assert RepoReader.locate([f"memory://{BUCKET}/code"], RepoOptions()) == [
        f"memory://{BUCKET}/code/demo-1.0.tar.gz", f"memory://{BUCKET}/code/demo-1.0.zip"]
    assert RepoReader.locate([f"memory://{BUCKET}/code/*.zip"], RepoOptions()) == [
        f"memory://{BUCKET}/code/demo-1.0.zip"]


def test_a_remote_prefix_without_archives_is_rejected_by_name() -> None:
    clear(BUCKET)
    upload(f"memory://{BUCKET}/loose/app/main.py", b"print(1)\n")
    [rejected] = read_all([f"memory://{BUCKET}/loose"])
    assert isinstance(rejected, Rejected) and rejected.locator == f"memory://{BUCKET}/loose"
    assert rejected.error.startswith("UnknownInput: a remote repository must be an archive")


def test_a_corrupt_remote_archive_is_one_rejected() -> None:
    clear(BUCKET)
    upload(f"memory://{BUCKET}/bad/broken.zip", archive_bytes("zip")[:40])
    [rejected] = read_all([f"memory://{BUCKET}/bad/broken.zip"])
    assert isinstance(rejected, Rejected) and "BadZipFile" in rejected.error
