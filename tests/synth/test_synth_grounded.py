"""Grounded question families on real repositories, books and agent runs: every family
produces questions, every answer passes its checker and an independent check of the
sample's own text, a wrong answer fails, and placement stays uniform and far."""

from __future__ import annotations

import re
import statistics

import pytest
from grounded_fixture import evaluated_runs, shared_book, shared_repo, shared_runs, stdlib_repo
from synth_fixture import chi_square_uniform_ok

from longweave.schemas.document import Document
from longweave.schemas.ledger import Drop
from longweave.schemas.recipe_synth import QUESTION_FAMILIES, SynthesizeConfig
from longweave.synth.build import synthesize_all
from longweave.synth.families import FAMILIES, NEXT_WORD, Grounded
from longweave.synth.plan import family_counts

CODE = ["code_definition", "code_returns", "code_call_sites", "code_rename",
        "code_import_target"]
BOOKS = ["book_first_last", "book_two_hop", "book_which_chapter"]


def test_recipe_names_every_family_the_code_builds() -> None:
    assert set(QUESTION_FAMILIES) == set(FAMILIES) | {NEXT_WORD}


def _found(family: str, row: Document, limit: int | None = None) -> list[Grounded]:
    return FAMILIES[family].find(row, len(row.text) if limit is None else limit)


@pytest.mark.slow
@pytest.mark.parametrize("family", CODE)
def test_code_family_on_flask_checks_out(family: str) -> None:
    row = shared_repo("flask")
    found = _found(family, row)
    assert found, f"{family} found nothing in flask"
    for g in found:
        assert FAMILIES[family].check(row, g) == [], g.question


def test_definitions_in_typescript_come_from_tree_sitter_and_pass_a_regex_check() -> None:
    row = shared_repo("taxonomy")
    found = _found("code_definition", row)
    assert len(found) >= 50
    assert all(FAMILIES["code_definition"].check(row, g) == [] for g in found)
    g = found[0]
    wrong = Grounded(g.family, g.question, g.answer, [(g.evidence[0][0] + 1, g.evidence[0][1])],
                     g.subject, g.facts)
    assert FAMILIES["code_definition"].check(row, wrong)


@pytest.mark.slow
def test_import_target_reads_every_language_graph() -> None:
    for name in ("ripgrep", "taxonomy"):
        row = shared_repo(name)
        found = _found("code_import_target", row)
        assert len(found) >= 20, name
        assert all(FAMILIES["code_import_target"].check(row, g) == [] for g in found)


def test_a_package_read_as_its_own_repository_resolves_absolute_imports() -> None:
    row = stdlib_repo("email")  # `from email.utils import x` inside the `email` row
    assert any(g.facts["file"] == "utils.py" for g in _found("code_definition", row))


@pytest.mark.slow
def test_code_checkers_refuse_wrong_answers() -> None:
    row = shared_repo("flask")
    other = "src/flask/json/tag.py"
    for family in CODE:
        g = _found(family, row)[0]
        key = "file" if "file" in g.facts else "files"
        wrong = dict(g.facts)
        wrong[key] = other if key == "file" else [*g.facts["files"][:-1], other]
        if family == "code_import_target":
            wrong["edge"] = [g.facts["edge"][0], g.facts["edge"][0]]
        bad = Grounded(g.family, g.question, g.answer, g.evidence, g.subject, wrong)
        assert FAMILIES[family].check(row, bad), family
        inside = Grounded(g.family, g.question, g.answer, [g.subject], g.subject, g.facts)
        assert FAMILIES[family].check(row, inside), f"{family} accepted evidence in the subject"


@pytest.mark.parametrize("family", BOOKS)
def test_book_family_on_real_books_checks_out(family: str) -> None:
    for name in ("pg1342.txt", "pg2641.txt", "pg37106.txt"):
        row = shared_book(name)
        found = _found(family, row, 200_000)
        assert found, f"{family} found nothing in {name}"
        for g in found:
            assert FAMILIES[family].check(row, g) == [], g.question
        if family == "book_two_hop":
            assert all(g.facts["chapters"][0] != g.facts["chapters"][1] for g in found)


def test_book_checkers_refuse_wrong_answers() -> None:
    row = shared_book("pg2641.txt")
    for family in BOOKS:
        g = _found(family, row, 200_000)[0]
        facts = dict(g.facts)
        if "chapters" in facts:
            facts["chapters"] = facts["chapters"][::-1]
        else:
            facts["count"] += 1
        assert FAMILIES[family].check(row, Grounded(g.family, g.question, g.answer, g.evidence,
                                                    None, facts)), family


@pytest.mark.slow
def test_refer_back_family_on_real_runs() -> None:
    total = 0
    for row in shared_runs():
        for g in _found("traj_refer_back", row):
            assert FAMILIES["traj_refer_back"].check(row, g) == []
            assert g.facts["token"] in row.text[g.evidence[0][0]:g.evidence[0][1]]
            total += 1
    assert total >= 20


@pytest.mark.slow
def test_outcome_family_reads_resolved_and_skips_without_it() -> None:
    runs = evaluated_runs()
    if not runs:
        pytest.skip("no evaluated mini-swe-agent run in the shared data")
    verdicts = set()
    for row in runs:
        [g] = _found("traj_outcome", row)
        assert FAMILIES["traj_outcome"].check(row, g) == []
        flipped = Document(row.id, row.source, row.kind, row.text, row.spans,
                           {**row.meta, "resolved": not row.meta["resolved"]})
        assert FAMILIES["traj_outcome"].check(flipped, g)
        verdicts.add(row.meta["resolved"])
        unknown = Document(row.id, row.source, row.kind, row.text, row.spans,
                           {**row.meta, "resolved": None})
        assert _found("traj_outcome", unknown) == []
    assert verdicts == {True, False}


def test_family_counts_share_out_over_available_families() -> None:
    shares = {"next_word": 0.2, "code_definition": 0.4, "book_two_hop": 0.4}
    assert family_counts(shares, {"next_word", "code_definition"}, 6) == {
        "next_word": 2, "code_definition": 4}
    assert sum(family_counts(shares, set(shares), 7).values()) == 7
    assert family_counts(shares, set(), 5) == {}


def test_a_family_with_no_askable_row_gets_no_jobs() -> None:
    """json has no function called from two other files: no call-site job is planned, and
    its samples go to the family that can be asked (nothing is planned only to fail)."""
    row = stdlib_repo("json")
    assert _found("code_call_sites", row) == []
    config = SynthesizeConfig.model_validate({"enabled": True, "paraphrase": {
        "enabled": True, "samples_per_bucket": 4,
        "families": {"code_call_sites": 0.5, "code_import_target": 0.5}}})
    out = synthesize_all([row], config, 1, None, [8192])
    assert len(out) == 4 and all(isinstance(o, Document) for o in out)
    assert {o.meta["family"] for o in out} == {"code_import_target"}


# --- whole samples through the stage's own entry point --------------------------------
BUCKET = 32768


def _header_before(text: str, pos: int) -> str | None:
    """The `<file_sep>` path of the file holding `pos`, read from the sample's own text."""
    at = text.rfind("<file_sep>", 0, pos)
    return None if at < 0 else text[at + len("<file_sep>"):text.index("\n", at)]


def _independent_check(doc: Document) -> None:
    """What a reader of the sample can confirm without the families' code."""
    meta = doc.meta
    family = meta["family"]
    answer = doc.text[meta["messages"][1]["start"]:meta["messages"][1]["end"]]
    quotes = [doc.text[e["start"]:e["end"]] for e in meta["evidence_spans"]]
    assert all(f'"{q}"' in answer for q in quotes), family
    if family == NEXT_WORD:
        return
    assert all(link["distance_chars"] > 0 for link in meta["questions"])
    if family.startswith("code_"):
        subject = meta["facts"]["subject_file"]
        homes = [_header_before(doc.text, e["start"]) for e in meta["evidence_spans"]]
        assert subject not in homes, f"{family}: evidence in the subject file {subject}"
        symbol = meta["facts"].get("symbol")
        if family == "code_definition":
            # a Python def/class, or a TS/JS declaration (taxonomy's components)
            assert re.match(rf"(async def|def|class) {symbol}\b", quotes[0]) or re.match(
                rf"(export\s+)?(default\s+)?(declare\s+)?(async\s+)?(function\*?|class|"
                rf"const|let|var|interface|type|enum)\s+{symbol}\b", quotes[0]), quotes[0]
            assert homes == [meta["facts"]["file"]]
        elif family == "code_returns":
            assert all(q.startswith("return") for q in quotes)
        elif family == "code_call_sites":
            assert all(f"{symbol}(" in q for q in quotes)
            assert homes == meta["facts"]["files"]
        elif family == "code_rename":
            assert all(re.search(rf"\b{symbol}\b", q) for q in quotes)
            assert homes == meta["facts"]["files"]
        else:
            assert homes == [meta["facts"]["file"]] and f"`{homes[0]}`" in answer
    if family in ("book_first_last", "book_two_hop"):
        names = meta["facts"].get("names") or [meta["facts"]["name"]] * 2
        assert all(n in q for n, q in zip(names, quotes, strict=True))


@pytest.fixture(scope="module")
def mixed_samples() -> list[Document | Drop]:
    rows = [shared_repo("flask"), shared_repo("taxonomy"), stdlib_repo("email"),
            shared_book("pg2641.txt"), shared_book("pg1342.txt"), *shared_runs()[:40]]
    config = SynthesizeConfig.model_validate({"enabled": True, "paraphrase": {
        "enabled": True, "samples_per_bucket": 40}})
    return synthesize_all(rows, config, 11, None, [BUCKET])


@pytest.mark.slow
def test_every_family_builds_checked_far_samples(mixed_samples) -> None:
    samples = [s for s in mixed_samples if isinstance(s, Document)]
    by_family: dict[str, list[Document]] = {}
    for doc in samples:
        by_family.setdefault(doc.meta["family"], []).append(doc)
        _independent_check(doc)
        assert doc.meta["length"]["tokens"] <= BUCKET
    assert len([f for f in by_family if f.startswith("code_")]) >= 4, sorted(by_family)
    assert len([f for f in by_family if f.startswith("book_")]) >= 2, sorted(by_family)
    assert "traj_refer_back" in by_family and NEXT_WORD in by_family
    distances = [link["distance_chars"] / 4 for d in samples for link in d.meta["questions"]]
    assert statistics.median(distances) >= BUCKET / 3
    drops = [s for s in mixed_samples if isinstance(s, Drop)]
    assert len(drops) <= len(mixed_samples) // 4
    assert all(d.reason.startswith("synth-failed:") for d in drops)


@pytest.mark.slow
@pytest.mark.parametrize("family", ["code_import_target", "code_definition"])
def test_grounded_depth_is_uniform(family: str) -> None:
    """Windows of long rows are cut so the evidence lands at the planned depth."""
    rows = [shared_repo("flask"), shared_repo("taxonomy"), shared_repo("ripgrep")]
    config = SynthesizeConfig.model_validate({"enabled": True, "paraphrase": {
        "enabled": True, "samples_per_bucket": 50, "families": {family: 1}}})
    out = synthesize_all(rows, config, 3, None, [16384])
    depths = [d.meta["depth"] for d in out if isinstance(d, Document)]
    assert len(depths) >= 35, len(depths)
    bins = [0] * 5
    for depth in depths:
        bins[min(4, int(depth * 5))] += 1
    assert chi_square_uniform_ok(bins), bins
