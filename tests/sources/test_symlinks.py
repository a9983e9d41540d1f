"""One symlink policy for every reader: a link that leaves the input root is refused and listed.

Each test plants a secret file outside the input folder, links to it from inside, and
checks that the secret's text reaches no Document while a `Rejected` names the link, both
through the reader directly and through collect's listing and reading path.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from longweave.pipeline.transforms.collect import list_work_units, read_unit
from longweave.schemas.document import Document
from longweave.schemas.ledger import Rejected
from longweave.schemas.recipe import SourceSpec
from longweave.sources.base import files_under
from longweave.sources.registry import reader_for

SECRET = "TOP SECRET outside the root: do not train on this line."
BOOK = ("CHAPTER I.\n\n" + "The lane ran down to the river past the mill and the barns. " * 40
        + "\n")


def _outside(tmp_path: Path, name: str, text: str) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir(exist_ok=True)
    target = outside / name
    target.write_text(text)
    return target


def _collect(kind: str, paths: list[str], options: dict | None = None
             ) -> tuple[list[Document], list[Rejected]]:
    spec = SourceSpec(name="s", kind=kind, paths=paths, options=options or {})
    docs: list[Document] = []
    rejected: list[Rejected] = []
    for unit in list_work_units([spec]):
        for item in read_unit(unit, {"s": spec.parsed_options()}):
            (rejected if isinstance(item, Rejected) else docs).append(item)
    return docs, rejected


def _assert_refused(docs: list[Document], rejected: list[Rejected], link: Path) -> None:
    assert all(SECRET not in doc.text for doc in docs)
    hits = [r for r in rejected if r.locator == str(link)]
    assert len(hits) == 1, rejected
    assert hits[0].error.startswith("SymlinkOutsideRoot:")
    assert "outside the input root" in hits[0].error
    assert hits[0].as_drop().reason == "quarantined:SymlinkOutsideRoot"


@pytest.mark.parametrize("kind, name, text", [
    ("text", "notes.txt", SECRET + "\n" + "More words about nothing at all. " * 20),
    ("book", "book.txt", BOOK + SECRET + "\n"),
    ("trajectory", "run.jsonl", json.dumps(
        {"type": "user", "uuid": "u1", "sessionId": "s1",
         "message": {"role": "user", "content": SECRET}}) + "\n"),
])
def test_file_link_out_of_the_root_is_refused_and_listed(tmp_path: Path, kind: str,
                                                         name: str, text: str) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / f"inside{Path(name).suffix}").write_text(text.replace(SECRET, "harmless"))
    link = root / name
    link.symlink_to(_outside(tmp_path, name, text))
    docs, rejected = _collect(kind, [str(root)])
    _assert_refused(docs, rejected, link)
    # A glob applies the same policy, with the glob's fixed folder as the root.
    docs, rejected = _collect(kind, [str(root / f"*{Path(name).suffix}")])
    _assert_refused(docs, rejected, link)


def test_folder_link_out_of_the_root_is_refused_as_a_whole(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "real").mkdir(parents=True)
    (root / "real" / "a.txt").write_text("kept text " * 20)
    _outside(tmp_path, "secret.txt", SECRET)
    (root / "elsewhere").symlink_to(tmp_path / "outside", target_is_directory=True)
    docs, rejected = _collect("text", [str(root)])
    assert [Path(d.meta["path"]).name for d in docs] == ["a.txt"]
    _assert_refused(docs, rejected, root / "elsewhere")
    # A recursive glob would follow the folder link: every escaping match is refused.
    docs, rejected = _collect("text", [str(root / "**" / "*.txt")])
    assert all(SECRET not in d.text for d in docs)
    assert {Path(r.locator).name for r in rejected} >= {"secret.txt"}


def test_links_inside_the_root_and_named_paths_are_read(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "real.txt").write_text("inside text " * 10)
    (root / "alias.txt").symlink_to(root / "real.txt")
    listed = files_under([str(root)], (".txt",))
    assert listed == [str(root / "alias.txt"), str(root / "real.txt")]
    # A file the user names explicitly is followed even when it is a link.
    named = tmp_path / "named.txt"
    named.symlink_to(_outside(tmp_path, "chosen.txt", "chosen by the user"))
    assert files_under([str(named)], (".txt",)) == [str(named)]


def test_a_refused_link_is_never_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    """The reader is not started for a refusal: nothing is opened, one `Rejected` comes out."""
    import longweave.sources.text as text_module

    def no_open(path: str) -> None:
        raise AssertionError(f"opened {path}")

    monkeypatch.setattr(text_module, "open_binary", no_open)
    root = tmp_path / "root"
    root.mkdir()
    (root / "x.txt").symlink_to(_outside(tmp_path, "x.txt", SECRET))
    (locator,) = files_under([str(root)], (".txt",))
    options = SourceSpec(name="s", kind="text", paths=[str(root)]).parsed_options()
    items = list(reader_for("text").read("s", locator, options))
    assert len(items) == 1 and isinstance(items[0], Rejected)
    assert items[0].error.startswith("SymlinkOutsideRoot:"), items[0].error


def test_repo_reader_refuses_links_out_of_the_root(tmp_path: Path) -> None:
    """Repositories: a linked file inside a repo is skipped and listed in its meta; a
    linked repository folder out of the input root is a `Rejected`."""
    repos = tmp_path / "repos"
    (repos / "app").mkdir(parents=True)
    (repos / "app" / "main.py").write_text("import os\n\nprint(os.getcwd())\n")
    secret = _outside(tmp_path, "secret.py", f"# {SECRET}\n")
    (repos / "app" / "leak.py").symlink_to(secret)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "lib.py").write_text(f"# {SECRET}\n")
    (repos / "foreign").symlink_to(foreign, target_is_directory=True)
    docs, rejected = _collect("repo", [str(repos)], {"layout": "subdirs"})
    assert all(SECRET not in d.text for d in docs)
    (app,) = docs
    assert app.meta["skipped"].get("leak.py") == "symlink-outside-root"
    _assert_refused(docs, rejected, repos / "foreign")
    # One repository folder: both links are skipped and listed in its meta.
    docs, rejected = _collect("repo", [str(repos)], {"layout": "single"})
    (whole,) = docs
    assert SECRET not in whole.text and not rejected
    assert whole.meta["skipped"]["app/leak.py"] == "symlink-outside-root"
    assert whole.meta["skipped"]["foreign"] == "symlink-outside-root"


def test_refusal_locator_names_the_link_for_a_direct_read(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "x.txt").symlink_to(_outside(tmp_path, "x.txt", SECRET))
    (locator,) = files_under([str(root)], (".txt",))
    assert locator != os.path.join(str(root), "x.txt")  # not a plain, readable path
    options = SourceSpec(name="s", kind="book", paths=[str(root)]).parsed_options()
    items = list(reader_for("book").read("s", locator, options))
    assert [type(i) for i in items] == [Rejected]
    assert items[0].locator == str(root / "x.txt")
