"""RULER-style tasks: needles where claimed, answers right, lengths hit, depth uniform."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from synth_fixture import chi_square_uniform_ok, stdlib_documents, trained_tokenizer

from longweave.schemas.document import Document
from longweave.schemas.ledger import Drop
from longweave.schemas.recipe_synth import TASK_FAMILIES, SynthesizeConfig
from longweave.synth.build import synthesize_all
from longweave.synth.tasks import insert_at_lines

BUCKET = 2048


@pytest.fixture(scope="module")
def tasks() -> list[Document]:
    config = SynthesizeConfig.model_validate({
        "enabled": True, "tasks": {"enabled": True, "samples_per_bucket": 3}})
    out = synthesize_all(stdlib_documents(), config, 9, trained_tokenizer(), [BUCKET])
    assert not [o for o in out if isinstance(o, Drop)], out
    assert {d.meta["family"] for d in out} == set(TASK_FAMILIES)
    return out


def test_lengths_hit_the_bucket_with_the_tokenizer(tasks) -> None:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(trained_tokenizer())
    for doc in tasks:
        tokens = len(tok.encode(doc.text, add_special_tokens=False).ids)
        assert 0.8 * BUCKET <= tokens <= BUCKET, (doc.meta["family"], tokens)


def test_needles_sit_at_their_spans_and_answers_hold_their_values(tasks) -> None:
    for doc in tasks:
        family = doc.meta["family"]
        spans = sorted(doc.spans_with_prefix("needle:"), key=lambda s: int(s.label[7:]))
        needles = [doc.text[s.start:s.end] for s in spans]
        answer = doc.meta["answer"]
        if family.startswith("niah"):
            assert needles and all(n.startswith("One of the special magic") for n in needles)
            values = [n.rsplit(" is: ", 1)[1].rstrip(".") for n in needles]
            assert values[0] in answer
            if family in ("niah_multivalue", "niah_multiquery"):
                assert all(v in answer for v in values)
            if doc.meta["value_type"] == "uuids":
                assert re.fullmatch(r"[0-9a-f-]{36}", values[0])
        elif family == "variable_tracking":
            value = needles[0].split(" = ")[1].rstrip(".")
            chain = [needles[0].split()[1]]
            for n in needles[1:]:
                assert n.endswith(f"= VAR {chain[-1]}.")
                chain.append(n.split()[1])
            assert answer.endswith(f"{value} are: {', '.join(chain)}.")
        for link in doc.meta["questions"]:
            assert link["distance_chars"] > 0 and "distance_tokens" in link


def test_word_extraction_answers_match_the_counts(tasks) -> None:
    for doc in tasks:
        user = doc.meta["messages"][0]
        body = doc.text[user["start"]:user["end"]].split("\n", 1)[1].rsplit("\nQuestion", 1)[0]
        answer_words = doc.meta["answer"].split(": ", 1)[1].rstrip(".").split(", ")
        if doc.meta["family"] == "common_words":
            counts = Counter(line.split(". ", 1)[1] for line in body.splitlines())
            top = max(counts.values())
            assert {w for w, c in counts.items() if c == top} == set(answer_words)
            assert len(set(counts.values())) >= 2
        elif doc.meta["family"] == "frequent_words":
            counts = Counter(body.split())
            ranked = counts.most_common(len(answer_words) + 1)
            assert [w for w, _ in ranked[:-1]] == answer_words
            assert ranked[-2][1] > ranked[-1][1]


def test_needle_depth_is_uniform_over_many_samples() -> None:
    config = SynthesizeConfig.model_validate({
        "enabled": True, "tasks": {"enabled": True, "samples_per_bucket": 50,
                                   "families": ["niah_single"], "value_types": ["numbers"]}})
    out = synthesize_all(stdlib_documents(), config, 2, None, [1024])
    depths = [d.meta["depth"] for d in out]
    assert len(depths) == 50
    bins = Counter(min(4, int(x * 5)) for x in depths)
    assert chi_square_uniform_ok([bins[i] for i in range(5)])
    assert max(abs(d.meta["depth"] - d.meta["target_depth"]) for d in out) < 0.05


def test_insert_at_lines_keeps_haystack_and_reports_offsets() -> None:
    hay = "alpha\nbeta\ngamma\ndelta\n"
    text, placed = insert_at_lines(hay, [(0.9, "N1"), (0.0, "N0")])
    assert [text[a:b] for a, b, _ in placed] == ["N1", "N0"]
    assert text.replace("N1\n", "").replace("N0\n", "") == hay
    assert placed[1][2] == 0.0 and placed[0][2] > 0.7
