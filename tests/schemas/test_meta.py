"""The declared meta layout and span labels: constants name declared keys, stages write only
their namespace, kept record fields never overwrite a reader's key, synthetic links are
measured like every other kind's."""

from __future__ import annotations

import json

import pytest
from synth_fixture import stdlib_documents

from longweave.pipeline.packing.segments import encode_batch, segment_document
from longweave.pipeline.packing.tokenizer import special_ids, train_bpe
from longweave.schemas import meta as m
from longweave.schemas import spans
from longweave.schemas.document import DOCUMENT_KINDS
from longweave.schemas.ledger import Drop
from longweave.schemas.recipe_pack import TokenizerConfig
from longweave.schemas.recipe_synth import SynthesizeConfig
from longweave.synth.build import synthesize_all


def test_every_kind_is_declared_and_constants_name_declared_keys() -> None:
    assert set(m.KIND_META) == set(DOCUMENT_KINDS)
    everywhere = set().union(*(m.declared_keys(kind) for kind in DOCUMENT_KINDS))
    for key in (m.PATH, m.TITLE, m.QUALITY, m.STEPS, m.COMPONENTS, m.DEPENDENCY_EDGES,
                m.DEPENDENCY_LINKS, m.DEPTH, m.LICENSE, m.FIELDS):
        assert key in everywhere, key
    assert m.DEPENDENCY_DISTANCES in m.TokenizeMeta.__optional_keys__
    assert m.QUALITY in m.FilterMeta.__optional_keys__
    # a reader's key never shares its name with a stage namespace
    for kind in DOCUMENT_KINDS:
        own = m.KIND_META[kind].__optional_keys__ | m.KIND_META[kind].__required_keys__
        assert not own & set(m.STAGE_NAMESPACES), kind


def test_a_stage_writes_only_its_own_namespace() -> None:
    meta = {"quality": {"alpha_fraction": 0.9}, "language": "English"}
    judged = m.with_stage_keys(meta, m.FILTER, quality={"score": 0.5})
    both = m.with_stage_keys(judged, m.FILTER, language="en")
    assert both == {"quality": {"alpha_fraction": 0.9}, "language": "English",
                    "filter": {"quality": {"score": 0.5}, "language": "en"}}
    assert meta == {"quality": {"alpha_fraction": 0.9}, "language": "English"}  # a copy
    assert m.filter_score(both) == 0.5 and m.filter_score(meta) is None
    with pytest.raises(ValueError, match="declares no key"):
        m.with_stage_keys(meta, m.FILTER, score=0.5)
    with pytest.raises(ValueError, match="not a stage namespace"):
        m.with_stage_keys(meta, "quality", score=0.5)


def test_kept_record_fields_never_overwrite_a_readers_key() -> None:
    record = {"licence": "MIT", "path": "elsewhere", "filter": "x", "year": 1900,
              "spdx": "Apache-2.0", "text": "..."}
    kept = m.record_meta(record, ["licence", "path", "filter", "year", "spdx", "missing"],
                         {"path"})
    assert kept == {"license": "MIT", "year": 1900,
                    "fields": {"path": "elsewhere", "filter": "x", "spdx": "Apache-2.0"}}
    assert m.license_of(kept) == "MIT" and m.license_of({"license": " "}) is None


def test_readers_of_other_stages_keys() -> None:
    meta = {"depth": 0.25, "tokenize": {"dependency_distances": {"chars": [9, -3],
                                                                 "tokens": [3, -1]}}}
    assert m.token_distances(meta) == [3.0]  # a backward (cycle) edge is no reach
    assert m.sample_depth(meta) == 0.25 and m.sample_depth({"depth": None}) is None
    assert m.sample_depth({"depth": 1.5}) is None
    assert m.numeric_signals({"a": 1, "b": True, "c": "x", "d": [1]}) == {"a": 1.0}


def test_span_label_helpers_round_trip() -> None:
    assert spans.label_value(spans.file_label("pkg/a.py"), spans.FILE) == "pkg/a.py"
    assert spans.label_value(spans.evidence_label("doc:1"), spans.EVIDENCE) == "doc:1"
    assert spans.part_number(spans.part_label(3, "id:with:colons")) == 3
    assert spans.turn_label("user").startswith(spans.TURN)
    with pytest.raises(ValueError):
        spans.label_value("chapter:x", spans.FILE)


def test_synthetic_samples_links_are_measured_at_tokenize() -> None:
    config = SynthesizeConfig.model_validate(
        {"enabled": True, "paraphrase": {"enabled": True, "samples_per_bucket": 2}})
    docs = stdlib_documents(("json/__init__.py", "json/decoder.py", "textwrap.py"))
    samples = synthesize_all(docs, config, 3, None, [3000])
    assert samples and not [s for s in samples if isinstance(s, Drop)]
    tokenizer = train_bpe([d.text for d in samples], 400, 2)
    specials = special_ids(tokenizer, TokenizerConfig())
    for encoded in encode_batch(tokenizer, samples):
        [segment] = segment_document(encoded, [8192], specials)
        meta = json.loads(segment.meta)
        questions = encoded.doc.meta["questions"]
        measured = meta[m.TOKENIZE][m.DEPENDENCY_DISTANCES]
        assert measured["chars"] == [q["distance_chars"] for q in questions]
        assert len(measured["tokens"]) == len(questions) and min(measured["tokens"]) > 0
        assert m.sample_depth(meta) == encoded.doc.meta["depth"]
        assert "kind" not in meta  # Document.kind says it; meta does not repeat it
