"""Redaction as readers produce Documents: every kind, spans and meta offsets kept exact,
the recipe's filter switches obeyed, quarantine errors cleaned too."""

from __future__ import annotations

import json
from pathlib import Path

from secrets_fixture import AWS, EMAIL, GITHUB, PRIVATE_KEY
from secrets_fixture import SECRETS as HOSTILE

from longweave.pipeline.transforms.collect import Collect, read_unit
from longweave.schemas.document import Document
from longweave.schemas.ledger import Rejected
from longweave.schemas.meta import COMPONENTS, DEPENDENCY_LINKS
from longweave.schemas.recipe import SourceSpec
from longweave.schemas.recipe_filters import FilterConfig
from longweave.schemas.recipe_sources import SOURCE_OPTIONS
from longweave.schemas.spans import FILE as FILE_PREFIX
from longweave.sources.redact import DEFAULT_REDACTION, Redaction, redact_collected, redacting
from longweave.sources.registry import read_documents


def read(kind: str, locator: Path | str, redaction: Redaction = DEFAULT_REDACTION,
         **options: object) -> list[Document | Rejected]:
    opts = SOURCE_OPTIONS[kind].model_validate(options)
    from longweave.sources.registry import reader_for

    return [item for loc in reader_for(kind).locate([str(locator)], opts)
            for item in read_documents(kind, "s", loc, opts, redaction)]


def leaked(doc: Document) -> list[str]:
    blob = doc.text + json.dumps(doc.meta)
    return [secret for secret in HOSTILE if secret in blob]


def test_repo_files_spans_and_components_stay_exact(tmp_path: Path) -> None:
    repo = tmp_path / "proj"
    repo.mkdir()
    (repo / "settings.py").write_text(f"AWS_KEY = '{AWS}'\nOWNER = '{EMAIL}'\n")
    (repo / "deploy.py").write_text(f"import settings\nTOKEN = '{GITHUB}'\nKEY = '''\n"
                                    f"{PRIVATE_KEY}\n'''\n")
    (repo / "other.py").write_text("print('unrelated')\n")
    raw = [d for d in read("repo", repo, Redaction(pii=False, secrets=False))
           if isinstance(d, Document)][0]
    [doc] = read("repo", repo)
    assert isinstance(doc, Document) and not leaked(doc)
    assert doc.meta["redacted"] == {"aws_access_key": 1, "email": 1, "github_token": 1,
                                    "private_key": 1}
    assert set(leaked(raw)) == set(HOSTILE)  # the reader alone, unredacted, holds them all
    # every file span still starts at its header and the text shrank by what was masked
    assert [s.label for s in doc.spans] == [s.label for s in raw.spans]
    for span in doc.spans:
        path = span.label[len(FILE_PREFIX):]
        assert doc.text[span.start:span.end].startswith(f"<file_sep>{path}\n"), span
        assert doc.text[span.end - 1] == "\n"
    # the components (character offsets in meta) moved with the text
    assert len(doc.meta[COMPONENTS]) == len(raw.meta[COMPONENTS]) >= 2
    for component in doc.meta[COMPONENTS]:
        assert doc.text[component["start"]:].startswith("<file_sep>")
        assert component["end"] == len(doc.text) or doc.text[
            component["end"]:].startswith("<file_sep>")
    assert doc.meta["dependency_edges"] == raw.meta["dependency_edges"]


def test_trajectory_dependency_links_move_with_the_text() -> None:
    text = f"user: mail {EMAIL}\ntool: result {AWS}\nagent: uses result\n"
    tool, agent = text.index("tool:"), text.index("agent:")
    doc = Document(id="t", source="s", kind="trajectory", text=text,
                   spans=[], meta={DEPENDENCY_LINKS: [[tool, agent]],
                                   "problem_statement": f"contact {EMAIL}"})
    out = redact_collected(doc, Redaction())
    [[tool_at, agent_at]] = out.meta[DEPENDENCY_LINKS]
    assert out.text[tool_at:].startswith("tool:") and out.text[agent_at:].startswith("agent:")
    assert (tool_at, agent_at) != (tool, agent)
    assert EMAIL not in out.meta["problem_statement"] and AWS not in out.text
    assert out.meta["redacted"] == {"aws_access_key": 1, "email": 2}
    assert "filter" not in out.meta  # the filter stage's namespace stays the filter's


def test_each_text_kind_is_redacted_as_read(tmp_path: Path) -> None:
    body = (f"CHAPTER I\n\nShe wrote to {EMAIL} about the key {AWS} and the token "
            f"{GITHUB}.\n{PRIVATE_KEY}\nThen the rain fell.\n")
    (tmp_path / "book.txt").write_text(body)
    (tmp_path / "notes.jsonl").write_text(json.dumps(
        {"id": "n1", "text": body, "author": EMAIL}) + "\n")
    messages = [{"role": "user", "content": f"deploy, mail {EMAIL}"},
                {"role": "assistant", "content": f"using {AWS}"},
                {"role": "user", "content": f"{PRIVATE_KEY} and {GITHUB}"},
                {"role": "assistant", "content": "done"}]
    (tmp_path / "session.json").write_text(json.dumps(messages))
    for kind, name, options in (("book", "book.txt", {}),
                                ("text", "notes.jsonl", {"meta_fields": ["author"]}),
                                ("trajectory", "session.json", {"redact_secrets": False})):
        docs = [d for d in read(kind, tmp_path / name, **options) if isinstance(d, Document)]
        assert docs, kind
        for doc in docs:
            assert not leaked(doc), (kind, leaked(doc))
            assert doc.meta["redacted"].get("email"), kind


def test_the_recipes_filter_switches_govern_it(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(f"key {AWS} mail {EMAIL}\n")
    spec = SourceSpec(name="notes", kind="text", paths=[str(tmp_path / "a.txt")])
    for filters, kept in ((FilterConfig(redact_pii=False), {EMAIL}),
                          (FilterConfig(redact_secrets=False), {AWS}),
                          (FilterConfig(redact_pii=False, redact_secrets=False), {AWS, EMAIL}),
                          (None, set())):
        collect = Collect([spec], filters)
        [unit] = collect.units
        [doc] = read_unit(unit, collect.options, collect.redaction)
        assert {s for s in (AWS, EMAIL) if s in doc.text} == kept, filters


def test_quarantine_errors_are_redacted() -> None:
    rejected = Rejected("s", "f.jsonl", "line 1", f"JSONDecodeError near '{AWS}'")
    doc = Document(id="d", source="s", kind="text", text="clean")
    out = list(redacting(iter([rejected, doc]), Redaction()))
    assert AWS not in out[0].error and out[0].record == "line 1"
    assert out[1].text == "clean" and out[1].meta["redacted"] == {}
    assert list(redacting(iter([rejected]), Redaction(False, False))) == [rejected]
