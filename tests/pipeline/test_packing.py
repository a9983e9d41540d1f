"""Pure packing logic: best-fit bins, rows of exactly the bucket, splits at natural units."""

from __future__ import annotations

import random

import numpy as np
import pytest

from longweave.pipeline.packing.bestfit import (
    PackOptions,
    best_fit_decreasing,
    build_row,
    pack_segments,
)
from longweave.pipeline.packing.segments import (
    Encoded,
    Segment,
    bucket_for,
    plan_pieces,
    segment_document,
)
from longweave.pipeline.packing.tokenizer import SpecialIds
from longweave.schemas.document import Document, Span
from longweave.schemas.packed import PAD_DOC_ID


def segment(seg_id: str, length: int, source: str = "s") -> Segment:
    return Segment(seg_id, seg_id, source, "text", 0, np.arange(length, dtype=np.int32) + 10,
                   None, length * 4, 0, 1, "none")


def test_best_fit_never_overflows_and_uses_every_item() -> None:
    rng = random.Random(3)
    lengths = [rng.randint(1, 1000) for _ in range(500)]
    bins = best_fit_decreasing(lengths, 1000)
    assert sorted(i for b in bins for i in b) == list(range(500))
    assert all(sum(lengths[i] for i in b) <= 1000 for b in bins)
    # near the lower bound: best-fit wastes little room on many small items
    lower_bound = -(-sum(lengths) // 1000)
    assert len(bins) <= lower_bound * 1.05 + 1


def test_best_fit_picks_the_tightest_bin() -> None:
    # 60 and 70 open two bins; 30 fits both but best-fit puts it in the fuller (70) one
    bins = best_fit_decreasing([70, 60, 30], 100)
    assert bins == [[0, 2], [1]]


def test_item_larger_than_capacity_is_refused() -> None:
    with pytest.raises(ValueError):
        best_fit_decreasing([5, 11], 10)


def test_rows_are_exactly_the_bucket_and_boundaries_match() -> None:
    segments = [(segment(f"d{i}", n), 0) for i, n in enumerate([300, 700, 200, 900, 50])]
    options = PackOptions(bucket=1024, pad_id=0, loss_mask=True, position_ids=True)
    rows = pack_segments(segments, options)
    seen = []
    for row in rows:
        assert len(row.input_ids) == 1024 == row.cu_seqlens[-1]
        assert row.cu_seqlens[0] == 0
        assert len(row.cu_seqlens) == len(row.doc_ids) + 1 == len(row.doc_sources) + 1
        assert len(row.loss_mask) == 1024 and len(row.position_ids) == 1024
        for start, end, doc in zip(row.cu_seqlens, row.cu_seqlens[1:], row.doc_ids,
                                   strict=False):
            assert row.position_ids[start] == 0
            if doc == PAD_DOC_ID:
                assert set(row.loss_mask[start:end].tolist()) == {0}
            else:
                seen.append(doc)
                original = dict((s.segment_id, s) for s, _ in segments)[doc]
                assert row.input_ids[start:end].tolist() == original.input_ids.tolist()
    assert sorted(seen) == sorted(s.segment_id for s, _ in segments)


def test_packing_does_not_depend_on_input_order() -> None:
    items = [(segment(f"d{i}", n), 0) for i, n in enumerate([300, 700, 200, 900, 50, 512])]
    options = PackOptions(bucket=1024, pad_id=0, loss_mask=False, position_ids=False)
    first = pack_segments(items, options)
    second = pack_segments(list(reversed(items)), options)
    assert [r.doc_ids for r in first] == [r.doc_ids for r in second]


def test_build_row_refuses_overflow() -> None:
    with pytest.raises(ValueError):
        build_row([segment("a", 600), segment("b", 600)],
                  PackOptions(bucket=1024, pad_id=0, loss_mask=False, position_ids=False))


def test_plan_pieces_prefers_boundaries_and_cuts_only_oversize_units() -> None:
    # units of 40, 40, 150, 30 tokens; limit 100
    boundaries = [0, 40, 80, 230, 260]
    pieces = plan_pieces(260, boundaries, 100)
    # the 150-token unit alone is cut; what is left of it then fits with the next unit
    assert pieces == [(0, 80, "boundary"), (80, 180, "cut"), (180, 260, "boundary")]
    assert plan_pieces(50, [0, 50], 100) == [(0, 50, "none")]


def test_segment_document_splits_at_file_spans_with_bos_and_eos() -> None:
    text = "".join(f"<file_sep>f{i}.py\n" + "x = 1\n" * 30 for i in range(6))
    spans, offset = [], 0
    for i in range(6):
        block = f"<file_sep>f{i}.py\n" + "x = 1\n" * 30
        spans.append(Span(offset, offset + len(block), f"file:f{i}.py"))
        offset += len(block)
    doc = Document("doc", "code", "repo", text, spans)
    # one token per character keeps the arithmetic visible
    encoded = Encoded(doc, np.arange(len(text), dtype=np.int32) % 200 + 3,
                      np.arange(len(text), dtype=np.int64))
    specials = SpecialIds(bos=1, eos=2, pad=0)
    segments = segment_document(encoded, [256, 512], specials)
    assert len(segments) > 1
    assert all(s.tokens <= 512 for s in segments)
    assert all(s.input_ids[0] == 1 for s in segments)
    assert segments[-1].input_ids[-1] == 2 and all(s.input_ids[-1] != 2 for s in segments[:-1])
    # every piece starts at a file boundary: no file was cut
    starts = {sp.start for sp in spans}
    position = 0
    for s in segments:
        assert position in starts
        position += s.tokens - 1 - (s is segments[-1])
    assert {s.split for s in segments} == {"span"}


def test_loss_off_spans_become_zero_mask() -> None:
    doc = Document("q", "qa", "paraphrase_qa", "context...question? answer.",
                   [Span(0, 19, "loss:off")])
    encoded = Encoded(doc, np.arange(len(doc.text), dtype=np.int32),
                      np.arange(len(doc.text), dtype=np.int64))
    (piece,) = segment_document(encoded, [64], SpecialIds(bos=None, eos=None, pad=0))
    assert piece.loss_mask.tolist() == [0] * 19 + [1] * (len(doc.text) - 19)


def test_bucket_policies() -> None:
    assert bucket_for(100, [128, 512, 1024]) == 128
    with pytest.raises(ValueError):
        bucket_for(2000, [128, 512, 1024])
    spread = [bucket_for(100, [128, 512, 1024], "spread", 1, f"k{i}") for i in range(3000)]
    counts = {b: spread.count(b) for b in (128, 512, 1024)}
    # weights proportional to bucket length: 128 : 512 : 1024
    assert counts[1024] > counts[512] > counts[128] > 0
    assert abs(counts[1024] / 3000 - 1024 / 1664) < 0.05
    assert bucket_for(600, [128, 512, 1024], "spread", 1, "x") == 1024


def test_repository_import_distances_are_measured_in_tokens() -> None:
    from longweave.pipeline.packing.segments import distances_in_tokens

    text = "<file_sep>a.py\nA\n" + "<file_sep>b.py\nimport a\n" * 1
    a_end = len("<file_sep>a.py\nA\n")
    spans = [Span(0, a_end, "file:a.py"), Span(a_end, len(text), "file:b.py")]
    doc = Document("r", "code", "repo", text, spans,
                   meta={"dependency_edges": [[1, 0, a_end]]})
    # two characters per token
    starts = np.arange(0, len(text), 2, dtype=np.int64)
    encoded = Encoded(doc, np.zeros(len(starts), dtype=np.int32), starts)
    found = distances_in_tokens(encoded)
    assert found == {"chars": [a_end], "tokens": [-(-a_end // 2)],
                     "token_pairs": [[0, -(-a_end // 2)]]}


def test_component_boundaries_are_preferred_when_they_leave_a_half_full_piece() -> None:
    boundaries = [0, 30, 60, 90, 120, 150, 200]
    # without strong boundaries the first piece runs to the farthest file boundary (90)
    assert plan_pieces(200, boundaries, 100)[0] == (0, 90, "boundary")
    # a component starting at 60 is preferred: no import edge is cut there
    assert plan_pieces(200, boundaries, 100, strong=[60])[0] == (0, 60, "boundary")
    # but not when it would leave the piece less than half full
    assert plan_pieces(200, boundaries, 100, strong=[30])[0] == (0, 90, "boundary")


def test_recorded_dependency_links_become_token_distances() -> None:
    from longweave.pipeline.packing.segments import distances_in_tokens

    text = "result: /src/app/config.py written\n" + "noise " * 50 + "open /src/app/config.py"
    later = text.rindex("open")
    doc = Document("t", "agents", "trajectory", text,
                   meta={"dependency_links": [[34, later]]})
    starts = np.arange(0, len(text), 3, dtype=np.int64)  # three characters per token
    found = distances_in_tokens(Encoded(doc, np.zeros(len(starts), np.int32), starts))
    earlier_token, later_token = -(-34 // 3), -(-later // 3)
    assert found == {"chars": [later - 34], "tokens": [later_token - earlier_token],
                     "token_pairs": [[earlier_token, later_token]]}


def test_a_document_that_cannot_be_tokenized_is_quarantined_alone() -> None:
    from longweave.pipeline.packing.encode import tokenize_documents
    from longweave.pipeline.packing.tokenizer import train_bpe
    from longweave.schemas.ledger import Drop

    tokenizer = train_bpe(["plain text for a small vocabulary " * 20], 300, 1)
    good = Document("good", "s", "text", "plain text here")
    bad = Document("bad", "s", "text", "text")
    bad.text = None  # corrupt after validation: encode_batch refuses it
    out = list(tokenize_documents(tokenizer, [good, bad], [64, 256],
                                  SpecialIds(bos=None, eos=None, pad=0)))
    drops = [o for o in out if isinstance(o, Drop)]
    assert [d.doc_id for d in drops] == ["bad"] and drops[0].reason.startswith("quarantined:")
    assert [o["doc_id"] for o in out if isinstance(o, dict)] == ["good"]


def test_pack_reads_segment_batches_as_the_rows_say_and_spills_them_whole(tmp_path) -> None:
    # the pack job's reader keeps tokens as numpy views of the batch: each Segment must be
    # the one `Segment.from_row` makes of the row, and a spill must read back as its pieces
    import pyarrow as pa

    from longweave.pipeline.transforms.pack import batch_segments, read_spills, spill_rows
    from longweave.schemas.packed import TOKENIZED_SEGMENT_SCHEMA

    rows = [segment("a", 5).to_row(), segment("b", 3).to_row(), segment("c", 4).to_row()]
    rows[1]["loss_mask"] = [0, 1, 1]
    rows[2]["loss_mask"] = None  # a null mask reads as none, like an empty one
    batch = pa.RecordBatch.from_pylist(rows, TOKENIZED_SEGMENT_SCHEMA)
    got = batch_segments(batch)
    for mine, row in zip(got, batch.to_pylist(), strict=True):
        want = Segment.from_row(row)
        assert (mine.input_ids.tolist(), mine.input_ids.dtype) == (want.input_ids.tolist(),
                                                                  np.dtype(np.int32))
        assert (None if mine.loss_mask is None else mine.loss_mask.tolist()) == \
            (None if want.loss_mask is None else want.loss_mask.tolist())
        assert (mine.segment_id, mine.tokens, mine.meta, mine.token_start) == \
            (want.segment_id, want.tokens, want.meta, want.token_start)
    path = tmp_path / "spill.arrow"
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(
            sink, spill_rows(batch, [2, 1]).schema) as writer:
        writer.write_batch(spill_rows(batch, [2, 1]))
    pieces = read_spills([str(path)])
    assert list(pieces) == ["c", "b"]
    assert pieces["b"].input_ids.tolist() == got[1].input_ids.tolist()
    assert pieces["b"].loss_mask.tolist() == [0, 1, 1] and pieces["c"].loss_mask is None
