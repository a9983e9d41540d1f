"""No secret from the hostile set is written anywhere under the work folder.

Each source kind (repository, book, text, agent session) gets the same hostile secrets;
the whole tiny workflow runs; then every file under the work folder is searched, as
bytes and, for Parquet (whose compression could hide a string from a byte search),
decoded through pyarrow. Redaction at read time is what makes collect's own files clean.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from conftest import write_tiny_recipe
from secrets_fixture import AWS, EMAIL, GITHUB, PRIVATE_KEY, SECRETS

from longweave.jobs.workflow import run_workflow

pytestmark = pytest.mark.slow

PROSE = ("The harbour was quiet in the early morning, and the boats rocked slowly on the "
         "grey water while the fishermen mended their nets and talked about the weather. ")


def hostile_inputs(root: Path) -> dict[str, dict]:
    """One input per kind holding every secret; returns recipe sources by name."""
    repo = root / "repos" / "leaky"
    repo.mkdir(parents=True)
    (repo / "settings.py").write_text(
        f'"""Settings, maintained by {EMAIL}."""\nAWS_ACCESS_KEY_ID = "{AWS}"\n'
        f'GITHUB_TOKEN = "{GITHUB}"\nDEPLOY_KEY = """\n{PRIVATE_KEY}\n"""\n')
    (repo / "app.py").write_text("import settings\n\n\ndef main():\n"
                                 "    return settings.AWS_ACCESS_KEY_ID\n")
    secrets_line = f"Write to {EMAIL}; the key is {AWS} and the token {GITHUB}.\n"
    book = root / "books" / "harbour.txt"
    book.parent.mkdir()
    book.write_text("CHAPTER I\n\n" + PROSE * 20 + "\n" + secrets_line + PRIVATE_KEY + "\n\n"
                    "CHAPTER II\n\n" + PROSE * 20 + "\n")
    notes = root / "notes" / "leaky.jsonl"
    notes.parent.mkdir()
    notes.write_text(json.dumps({"id": "leak-1", "text": PROSE * 5 + secrets_line + PRIVATE_KEY,
                                 "contact": EMAIL}) + "\n")
    session = root / "sessions" / "leaky.json"
    session.parent.mkdir()
    session.write_text(json.dumps([
        {"role": "user", "content": f"Deploy the service; mail {EMAIL} when done."},
        {"role": "assistant", "content": f"Configuring credentials {AWS} now."},
        {"role": "user", "content": f"Here is the deploy key:\n{PRIVATE_KEY}\ntoken {GITHUB}"},
        {"role": "assistant", "content": "Deployed; I will send the mail."},
    ]))
    return {
        "leaky_code": {"kind": "repo", "paths": [str(repo)]},
        "leaky_books": {"kind": "book", "paths": [str(book.parent)]},
        "leaky_notes": {"kind": "text", "paths": [str(notes)],
                        "options": {"id_field": "id", "meta_fields": ["contact"]}},
        "leaky_agents": {"kind": "trajectory", "paths": [str(session)],
                         # the session reader's own secret pass off: read-time redaction
                         # alone must keep the files clean
                         "options": {"redact_secrets": False}},
    }


def files_holding(work: Path, secrets: tuple[str, ...]) -> dict[str, list[str]]:
    """Every file under `work` holding a secret (bytes, and Parquet decoded)."""
    found: dict[str, list[str]] = {}
    for path in sorted(p for p in work.rglob("*") if p.is_file()):
        data = path.read_bytes()
        texts = [data.decode("utf-8", "replace")]
        if path.suffix == ".parquet":
            texts.append(json.dumps(pq.read_table(path).to_pylist(), default=str))
        hits = [s for s in secrets if any(s in text for text in texts)]
        if hits:
            found[str(path.relative_to(work))] = hits
    return found


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("no_secret")
    recipe = yaml.safe_load(write_tiny_recipe(folder).read_text())
    for name, source in hostile_inputs(folder / "inputs").items():
        recipe["sources"].append({"name": name, **source})
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    assert run_workflow(str(path), str(folder / "work"), [])  # every stage, report too
    return folder / "work"


def test_the_inputs_hold_every_secret(tmp_path: Path) -> None:
    """The check can fail: the same search finds every secret in the raw inputs."""
    hostile_inputs(tmp_path)
    found = files_holding(tmp_path, SECRETS)
    assert set().union(*found.values()) == set(SECRETS)
    assert sorted(found) == ["books/harbour.txt", "notes/leaky.jsonl",
                             "repos/leaky/settings.py", "sessions/leaky.json"]
    assert all(set(hits) == set(SECRETS) for hits in found.values())


def test_no_secret_in_any_file_of_the_work_folder(run: Path) -> None:
    files = [p for p in run.rglob("*") if p.is_file()]
    suffixes = {p.suffix for p in files}
    assert {".parquet", ".arrow", ".json", ".html"} <= suffixes, suffixes
    assert files_holding(run, SECRETS) == {}


def test_every_hostile_source_was_read_and_redacted(run: Path) -> None:
    rows = [row for part in sorted((run / "collect" / "documents").glob("*.parquet"))
            for row in pq.read_table(part).to_pylist()]
    for source in ("leaky_code", "leaky_books", "leaky_notes", "leaky_agents"):
        docs = [r for r in rows if r["source"] == source]
        assert docs, f"{source} never reached collect"
        meta = json.loads(docs[0]["meta"])
        assert {"aws_access_key", "email"} <= set(meta["redacted"]), (source, meta["redacted"])
        assert "[REDACTED:aws_access_key]" in docs[0]["text"]
