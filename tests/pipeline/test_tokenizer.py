"""The tokenizer stage's sources: a file, a HF folder, a hub id through the offline cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from longweave.pipeline.packing.tokenizer import (
    TokenizerError,
    resolve_tokenizer_json,
    special_ids,
    train_bpe,
)
from longweave.schemas.recipe_pack import TokenizerConfig


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> str:
    import json as jsonlib

    text = Path(jsonlib.__file__).read_text()
    tokenizer = train_bpe([text], vocab_size=400, min_frequency=2)
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    path.write_text(tokenizer.to_str())
    return str(path)


def test_file_and_folder_resolve_to_the_same_tokenizer(trained: str) -> None:
    assert resolve_tokenizer_json(TokenizerConfig(path=trained)) == trained
    folder = str(Path(trained).parent)
    assert resolve_tokenizer_json(TokenizerConfig(path=folder)) == trained
    with pytest.raises(TokenizerError, match="no tokenizer.json"):
        resolve_tokenizer_json(TokenizerConfig(path=str(Path(trained).parent.parent)))


def test_hub_id_resolves_from_the_local_cache_offline(trained: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # the layout huggingface_hub keeps: models--org--name/{refs/main, snapshots/<rev>/...}
    repo = tmp_path / "hub" / "models--longweave--tiny-bpe"
    revision = "0123456789abcdef0123456789abcdef01234567"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(revision)
    snapshot = repo / "snapshots" / revision
    snapshot.mkdir(parents=True)
    (snapshot / "tokenizer.json").write_text(Path(trained).read_text())
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    import importlib

    import huggingface_hub.constants

    importlib.reload(huggingface_hub.constants)
    try:
        found = resolve_tokenizer_json(TokenizerConfig(hub_id="longweave/tiny-bpe"))
        assert Path(found).read_text() == Path(trained).read_text()
    finally:
        monkeypatch.undo()
        importlib.reload(huggingface_hub.constants)


def test_trained_tokenizer_has_the_specials_the_packer_needs(trained: str) -> None:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(trained)
    ids = special_ids(tokenizer, TokenizerConfig(bos=True, eos=True))
    assert None not in (ids.bos, ids.eos) and ids.pad not in (ids.bos, ids.eos)
    text = "def roundtrip(x):\n    return x  # ünïcode"
    assert tokenizer.decode(tokenizer.encode(text).ids) == text


def test_a_tokenizer_without_eos_is_refused_when_eos_is_asked_for() -> None:
    from tokenizers import Tokenizer, models

    bare = Tokenizer(models.WordLevel({"a": 0, "[UNK]": 1}, unk_token="[UNK]"))
    with pytest.raises(TokenizerError, match="tokenizer.eos"):
        special_ids(bare, TokenizerConfig(eos=True))
