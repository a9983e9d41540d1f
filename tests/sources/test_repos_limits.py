"""Archive and size refusals name the member, its size and the cap (the option to raise)."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

from longweave.schemas.document import Document
from longweave.schemas.ledger import Rejected
from longweave.schemas.recipe_sources import RepoOptions
from longweave.sources.repos import RepoReader

BOMB_BYTES = 20 << 20  # 20 MiB of one byte: deflates to about 20 KB


def read_all(locator: Path, **options: object) -> list[Document | Rejected]:
    opts = RepoOptions(**options)
    return [d for loc in RepoReader.locate([str(locator)], opts)
            for d in RepoReader.read("code", loc, opts)]


def zip_bomb(path: Path, extra: dict[str, str] | None = None) -> Path:
    """A zip whose one code member expands far past the per-file cap."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("pkg-1.0/bomb.py", "w") as member:
            chunk = b"#" * (1 << 20)
            for _ in range(BOMB_BYTES // len(chunk)):
                member.write(chunk)
        for name, text in (extra or {}).items():
            archive.writestr(f"pkg-1.0/{name}", text)
    return path


def test_a_zip_bomb_names_member_size_and_cap(tmp_path: Path) -> None:
    bomb = zip_bomb(tmp_path / "pkg-1.0.zip")
    assert bomb.stat().st_size < 200_000  # highly compressible: small on disk
    [rejected] = read_all(bomb)
    assert isinstance(rejected, Rejected)
    assert rejected.error.startswith("EmptyRepository")
    assert "{'oversize': 1}" in rejected.error
    assert (f"bomb.py: {BOMB_BYTES} bytes > cap max_file_bytes 1000000"
            in rejected.error), rejected.error


def test_size_refusals_are_listed_beside_a_kept_repository(tmp_path: Path) -> None:
    bomb = zip_bomb(tmp_path / "pkg-1.0.zip", {"ok.py": "print('fine')\n",
                                               "big.py": "x = 1\n" * 400})
    [doc] = read_all(bomb, max_repo_bytes=1000)
    assert isinstance(doc, Document)
    assert doc.meta["skipped"]["bomb.py"] == "oversize"
    assert doc.meta["size_refusals"]["bomb.py"] == (
        f"{BOMB_BYTES} bytes > cap max_file_bytes 1000000")
    assert doc.meta["skipped"]["big.py"] == "repo-size-cap"
    assert doc.meta["size_refusals"]["big.py"] == (
        "2400 bytes would bring the selection to 2400 > cap max_repo_bytes 1000")
    assert "ok.py" in doc.text and "ok.py" not in doc.meta["size_refusals"]


def test_archive_caps_name_the_cap_and_the_largest_member(tmp_path: Path) -> None:
    bomb = zip_bomb(tmp_path / "pkg-1.0.zip", {"small.py": "x = 1\n"})
    [rejected] = read_all(bomb, max_archive_bytes=1_000_000)
    assert isinstance(rejected, Rejected)
    assert (f"ArchiveTooLarge: {BOMB_BYTES + 6} bytes uncompressed > cap max_archive_bytes "
            f"1000000; largest member 'pkg-1.0/bomb.py': {BOMB_BYTES} bytes") in rejected.error

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for number in range(3):
            data = f"n = {number}\n".encode()
            info = tarfile.TarInfo(f"r/m{number}.py")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    (tmp_path / "many.tar.gz").write_bytes(buffer.getvalue())
    [rejected] = read_all(tmp_path / "many.tar.gz", max_archive_members=2)
    assert "ArchiveTooLarge: 3 members > cap max_archive_members 2" in rejected.error
