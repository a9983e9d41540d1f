"""Megadocs: verbatim evidence, backward cross-references, contents, lengths, determinism."""

from __future__ import annotations

import dataclasses

import pytest
from synth_fixture import stdlib_documents, trained_tokenizer

from longweave.schemas.document import Document, Span
from longweave.schemas.ledger import Drop
from longweave.schemas.recipe_synth import SynthesizeConfig
from longweave.synth.build import synthesize_all, verify_sample

CONFIG = SynthesizeConfig.model_validate({
    "enabled": True, "megadocs": {"enabled": True, "questions": 5},
    "grouping": {"keyword_df_cap_floor": 4}})


@pytest.fixture(scope="module")
def megadocs() -> list[Document]:
    out = synthesize_all(stdlib_documents(), CONFIG, 11, trained_tokenizer(), [4096, 8192])
    assert not [o for o in out if isinstance(o, Drop)]
    docs = [o for o in out if o.kind == "megadoc"]
    assert len(docs) >= 2
    return docs


def test_every_evidence_span_is_a_verbatim_passage_of_its_member(megadocs) -> None:
    originals = {d.id: d.text for d in stdlib_documents()}
    checked = 0
    for doc in megadocs:
        assert doc.meta["questions"], "every megadoc here should carry closing questions"
        for span in doc.spans_with_prefix("evidence:"):
            quote = doc.text[span.start:span.end]
            member = span.label.split(":", 1)[1]
            assert member in doc.meta["member_ids"]
            assert quote in originals[member]
            assert f'says: "{quote}"' in doc.text[span.end:]  # the answer quotes it, later
            checked += 1
        for link in doc.meta["questions"]:
            assert link["distance_chars"] > 0 and link["distance_tokens"] > 0
        # the tokenize stage measures these links like every other kind's
        assert doc.meta["dependency_links"] == [
            [q["evidence_end"], q["question_start"]] for q in doc.meta["questions"]]
    assert checked >= 5


def test_cross_references_point_to_earlier_existing_parts(megadocs) -> None:
    xrefs = 0
    for doc in megadocs:
        parts = {int(s.label.split(":")[1]): s for s in doc.spans_with_prefix("part:")}
        assert len(parts) >= 2 and len(parts) == len(doc.meta["parts"])
        contents_end = min(p.start for p in parts.values())
        for n in parts:
            assert f"\n{n}. " in doc.text[:contents_end]  # listed in the contents up front
        for span in doc.spans_with_prefix("xref:"):
            target = int(span.label.split(":")[1])
            assert parts[target].end <= span.start
            assert f"Part {target} (" in doc.text[span.start:span.end]
            xrefs += 1
        assert verify_sample(doc) == []
    assert xrefs >= 1


def test_verification_catches_a_forward_reference(megadocs) -> None:
    doc = next(d for d in megadocs if d.spans_with_prefix("xref:"))
    parts = doc.spans_with_prefix("part:")
    bad = dataclasses.replace(doc, spans=[*doc.spans, Span(parts[0].start, parts[0].start + 5,
                                                           f"xref:{len(parts)}")])
    assert verify_sample(bad)


def test_lengths_fit_the_bucket_by_tokenizer(megadocs) -> None:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(trained_tokenizer())
    for doc in megadocs:
        bucket = doc.meta["length"]["bucket"]
        tokens = len(tok.encode(doc.text, add_special_tokens=False).ids)
        assert doc.meta["length"]["measured_by"] == "tokenizer"
        assert 0.5 * bucket <= tokens <= bucket


def test_same_seed_same_megadocs_other_seed_differs(megadocs) -> None:
    again = synthesize_all(stdlib_documents(), CONFIG, 11, trained_tokenizer(), [4096, 8192])
    assert [d.to_row() for d in again] == [d.to_row() for d in megadocs]
    other = synthesize_all(stdlib_documents(), CONFIG, 12, trained_tokenizer(), [4096, 8192])
    assert [d.text for d in other] != [d.text for d in megadocs]


def test_without_tokenizer_meta_says_lengths_are_estimates() -> None:
    out = synthesize_all(stdlib_documents(), CONFIG, 11, None, [4096])
    assert out and all(d.meta["length"]["measured_by"] == "chars-estimate:4" for d in out)
    assert all("distance_tokens" not in q for d in out for q in d.meta["questions"])


def test_offline_generator_refuses_stitch_mode_at_recipe_time() -> None:
    with pytest.raises(ValueError, match="megadocs.mode"):
        SynthesizeConfig.model_validate({"enabled": True, "megadocs": {"mode": "stitch"}})


def test_fit_to_tokens_on_a_prefix_matches_encoding_the_whole_text() -> None:
    from longweave.synth.textutil import LengthMeter, fit_to_tokens

    text = "\n".join(doc.text for doc in stdlib_documents(
        ("json/__init__.py", "csv.py", "textwrap.py", "string.py")))
    meter = LengthMeter(trained_tokenizer(), 4.0)
    whole = meter._tok().encode(text, add_special_tokens=False).offsets
    for budget in (50, 700, 3000):
        limit = whole[budget][0]
        cut = text.rfind("\n", 0, limit)
        expected = text[: cut + 1] if cut > limit * 0.8 else text[:limit]
        assert fit_to_tokens(text, meter, budget) == expected
        assert meter.count(text, cap=budget) == budget + 1
    assert meter.count(text, cap=len(whole) + 10) == len(whole)
