"""Paraphrase-retrieval QA: verbatim quotes, loss only on the answer, uniform depth."""

from __future__ import annotations

import pytest
from synth_fixture import chi_square_uniform_ok, stdlib_documents

from longweave.schemas.document import Document
from longweave.schemas.ledger import Drop
from longweave.schemas.recipe_synth import SynthesizeConfig
from longweave.synth.build import synthesize_all

SAMPLES = 40
CONFIG = SynthesizeConfig.model_validate({
    "enabled": True, "paraphrase": {"enabled": True, "samples_per_bucket": SAMPLES}})


@pytest.fixture(scope="module")
def samples() -> list[Document]:
    out = synthesize_all(stdlib_documents(), CONFIG, 5, None, [3000])
    assert not [o for o in out if isinstance(o, Drop)]
    assert len(out) == SAMPLES
    return out


def test_quote_is_verbatim_at_stored_offsets(samples) -> None:
    originals = {d.id: d.text for d in stdlib_documents()}
    for doc in samples:
        ev = doc.meta["evidence"]
        evidence = doc.text[ev["start"]:ev["end"]]
        assert evidence in originals[ev["doc_id"]]
        quote = doc.text[ev["quote_start"]:ev["quote_start"] + len(evidence)]
        assert quote == evidence
        (span,) = doc.spans_with_prefix("evidence:")
        assert (span.start, span.end, span.label) == (ev["start"], ev["end"],
                                                      f"evidence:{ev['doc_id']}")
        assert doc.meta["paraphrased"] is False and "offline" in doc.meta["note"]


def test_loss_is_on_the_answer_only(samples) -> None:
    for doc in samples:
        trained = [True] * len(doc.text)
        for span in doc.spans_with_prefix("loss:off"):
            trained[span.start:span.end] = [False] * (span.end - span.start)
        user, assistant = doc.meta["messages"]
        assert not any(trained[user["start"]:user["end"]])
        assert all(trained[assistant["start"]:assistant["end"]])
        answer = doc.text[assistant["start"]:assistant["end"]]
        assert answer.startswith("The relevant passage reads:")
        assert "Question:" in doc.text[user["start"]:user["end"]]


def test_question_cue_is_unique_in_the_context(samples) -> None:
    for doc in samples:
        user = doc.meta["messages"][0]
        context = doc.text[user["start"]:doc.meta["questions"][0]["question_start"]]
        cue = doc.meta["evidence"]["cue"]
        assert f'"{cue}"' in doc.text[len(context):]
        assert context.count(cue) == 1


def test_depth_is_uniform_and_close_to_target(samples) -> None:
    depths = [d.meta["depth"] for d in samples]
    bins = [0] * 5
    for depth in depths:
        bins[min(4, int(depth * 5))] += 1
    assert chi_square_uniform_ok(bins), bins
    off = [abs(d.meta["depth"] - d.meta["target_depth"]) for d in samples]
    assert sorted(off)[len(off) // 2] < 0.02  # the median sample lands near its target


def test_same_seed_same_samples(samples) -> None:
    again = synthesize_all(stdlib_documents(), CONFIG, 5, None, [3000])
    assert [d.to_row() for d in again] == [d.to_row() for d in samples]
