"""The torch layer: transformers' flattening convention, a tiny Llama trained on packed rows,
and packed attention that never crosses a document boundary. Skipped without torch or
transformers (`pip install -e .[train]`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tokenizers import Tokenizer

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from report_fixture import build_output  # noqa: E402

from longweave.pipeline.packing.loader import PackedLoader  # noqa: E402
from longweave.pipeline.packing.torch_loader import (  # noqa: E402
    PackedIterableDataset,
    collate_packed,
)


@pytest.fixture
def out(tmp_path: Path) -> str:
    return str(build_output(tmp_path / "pack"))


def documents(rows: list[dict]) -> list[dict]:
    """Every segment of `rows` as its own example, with the loader's labels."""
    found = []
    for row in rows:
        cu = row["cu_seqlens"].tolist()
        for start, end in zip(cu[:-1], cu[1:], strict=True):
            found.append({"input_ids": row["input_ids"][start:end].tolist(),
                          "labels": row["labels"][start:end].tolist()})
    return found


def test_collate_matches_data_collator_with_flattening(out: str) -> None:
    rows = list(PackedLoader(out, 8))[:3]
    ours = collate_packed(rows)
    theirs = transformers.DataCollatorWithFlattening(return_flash_attn_kwargs=True)(
        documents(rows), return_tensors="pt")
    assert set(ours) == set(theirs)
    for key, value in theirs.items():
        if isinstance(value, torch.Tensor):
            assert ours[key].dtype == value.dtype and torch.equal(ours[key], value), key
        else:
            assert ours[key] == value, key
    assert ours["input_ids"].shape == (1, 24)


def tiny_llama(out: str, attn: str) -> torch.nn.Module:
    """A random 2-layer Llama (hidden 32) over the output folder's tokenizer: no download."""
    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=Tokenizer.from_file(str(Path(out) / "tokenizer.json")).get_vocab_size(), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
        attn_implementation=attn)
    return transformers.LlamaForCausalLM(config)


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
def test_packed_logits_equal_per_document_logits(out: str, attn: str) -> None:
    """With position_ids, no attention_mask and use_cache=False, transformers builds the
    block-diagonal causal mask itself; without position_ids documents would see each other."""
    model = tiny_llama(out, attn).eval()
    batch = collate_packed(list(PackedLoader(out, 8))[:2])
    cu = batch["cu_seq_lens_q"].tolist()
    with torch.no_grad():
        packed = model(input_ids=batch["input_ids"], position_ids=batch["position_ids"],
                       use_cache=False).logits[0]
        alone = torch.cat([model(input_ids=batch["input_ids"][:, start:end],
                                 use_cache=False).logits[0]
                           for start, end in zip(cu[:-1], cu[1:], strict=True)])
        unmasked = model(input_ids=batch["input_ids"], use_cache=False).logits[0]
    assert torch.allclose(packed, alone, atol=1e-5)
    assert not torch.allclose(unmasked, alone, atol=1e-3)  # the check can fail


def test_forward_and_backward_on_a_dataloader_that_resumes(out: str) -> None:
    model = tiny_llama(out, "sdpa").train()
    dataset = PackedIterableDataset(out, 8)
    loader = torch.utils.data.DataLoader(dataset, batch_size=2, collate_fn=collate_packed)
    stream = iter(loader)
    batch = next(stream)
    loss = model(**batch, use_cache=False).loss
    loss.backward()
    assert torch.isfinite(loss)
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    state = dataset.state_dict()
    assert state["next_row"] == 2
    rest = [b["input_ids"] for b in stream]
    resumed = PackedIterableDataset(out, 8)
    resumed.load_state_dict(state)
    again = [b["input_ids"] for b in torch.utils.data.DataLoader(
        resumed, batch_size=2, collate_fn=collate_packed)]
    assert len(again) == len(rest) == 2 and all(map(torch.equal, again, rest))


def test_a_worker_process_is_refused(out: str) -> None:
    loader = torch.utils.data.DataLoader(PackedIterableDataset(out, 8), num_workers=1,
                                         collate_fn=collate_packed)
    batches = iter(loader)
    with pytest.raises(RuntimeError, match="num_workers=0"):
        next(batches)
    # shut its worker down now: left to the garbage collector, the shutdown waits 5 s
    # (torch's status-check interval) inside whichever test runs next
    shutdown = getattr(batches, "_shutdown_workers", None)
    if shutdown is not None:
        shutdown()
