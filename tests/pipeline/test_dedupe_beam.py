"""Dedupe on Beam: duplicate groups, chains, keep policy, ledger lines, worker independence."""

from __future__ import annotations

import json
import random
import re
import sysconfig
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from longweave.filters.minhash import MinHashParams, jaccard, shingle_set
from longweave.pipeline.transforms.dedupe import Dedupe
from longweave.schemas.document import Document, Span
from longweave.schemas.recipe_filters import DedupeConfig


def stdlib_texts(count: int) -> list[str]:
    """Real prose-like code: docstring-rich stdlib modules, large enough to shingle."""
    root = Path(sysconfig.get_paths()["stdlib"])
    names = ["textwrap.py", "difflib.py", "fractions.py", "heapq.py", "bisect.py",
             "shlex.py", "string.py", "calendar.py"]
    return [(root / n).read_text(encoding="utf-8") for n in names[:count]]


def swap_words(text: str, share: float, seed: int) -> str:
    """Replace `share` of the words by a marker: a near duplicate at a known distance."""
    words = text.split()
    rng = random.Random(seed)
    for i in rng.sample(range(len(words)), int(len(words) * share)):
        words[i] = f"edit{seed}x{i}"
    return " ".join(words)


def doc(doc_id: str, text: str, kind: str = "text", **meta) -> Document:
    return Document(id=doc_id, source="s", kind=kind, text=text, meta=meta)


def run(docs: list[Document], config: DedupeConfig, tmp: Path, *args: str) -> dict[str, list]:
    """Run Dedupe on the DirectRunner, write each output as JSON lines, read them back."""
    options = PipelineOptions(["--runner=DirectRunner", *args])
    with beam.Pipeline(options=options) as p:
        out = p | beam.Create(docs, reshuffle=False) | Dedupe(config)
        for name, pcoll in out.items():
            (pcoll | f"Json{name}" >> beam.Map(lambda x: json.dumps(
                x.to_row() if hasattr(x, "to_row") else x, sort_keys=True))
             | f"Write{name}" >> beam.io.WriteToText(str(tmp / name)))
    result = {}
    for name in ("documents", "drops", "clusters", "components"):
        lines = [line for f in sorted(tmp.glob(f"{name}-*")) for line in f.read_text().splitlines()]
        result[name] = [json.loads(line) for line in sorted(lines)]
    return result


def chain(text: str, blocks: int = 30, links: int = 5) -> list[str]:
    """Sliding windows of `blocks` word blocks: neighbours ~0.95 Jaccard, the ends below 0.8."""
    words = text.split()
    size = len(words) // (blocks + links)
    parts = [" ".join(words[i * size:(i + 1) * size]) for i in range(blocks + links)]
    return [" ".join(parts[i:i + blocks]) for i in range(links + 1)]


def test_chain_ends_are_not_duplicates_themselves():
    params = MinHashParams.create()
    texts = chain(stdlib_texts(4)[3])
    ends = jaccard(shingle_set(texts[0], params), shingle_set(texts[-1], params))
    links = [jaccard(shingle_set(a, params), shingle_set(b, params))
             for a, b in zip(texts, texts[1:], strict=False)]
    assert ends < 0.8 < min(links)


@pytest.fixture(scope="module")
def corpus() -> list[Document]:
    a, b, c = stdlib_texts(3)
    chain_base = stdlib_texts(4)[3]
    docs = [
        doc("a0", a), doc("a1", swap_words(a, 0.005, 1)), doc("a2", swap_words(a, 0.01, 2)),
        doc("b0", b), doc("b1", b.upper()),  # exact duplicate after normalisation
        doc("c0", c),
        *(doc(f"chain{i}", text) for i, text in enumerate(chain(chain_base))),
        doc("empty", ""),
        doc("long", "lorem " * 10 + " ".join(f"word{i}" for i in range(330_000))),
    ]
    return docs


def chain_keeper(docs: list[Document]) -> str:
    """The policy's pick: longest, then smallest id (no quality scores here)."""
    return min((d for d in docs if d.id.startswith("chain")), key=lambda d: (-len(d.text), d.id)).id


def test_groups_found_one_survivor_each(corpus, tmp_path):
    result = run(corpus, DedupeConfig(), tmp_path)
    keeper = chain_keeper(corpus)
    kept = {d["id"] for d in result["documents"]}
    dropped = {d["doc_id"]: d for d in result["drops"]}
    assert kept == {"a0", "b0", "c0", keeper, "empty", "long"}
    # every input is either kept or dropped with a ledger line, never both or neither
    assert len(kept) + len(dropped) == len(corpus)
    assert all(d["reason"] == "duplicate" for d in dropped.values())
    assert re.fullmatch(r"duplicate-of:a0 cluster:\S+", dropped["a1"]["detail"])
    assert dropped["b1"]["detail"].startswith("duplicate-of:b0 cluster:exact-")
    # the chain x~y~z is one component kept as its longest member
    loser = "chain0" if keeper != "chain0" else "chain5"
    assert dropped[loser]["detail"].startswith(f"duplicate-of:{keeper} ")
    members = [c["members"] for c in result["clusters"] if c["method"] == "minhash"]
    assert sorted(members) == [["a0", "a1", "a2"], [f"chain{i}" for i in range(6)]]
    assert result["components"][0]["residual_edges"] == 0
    meta = {d["id"]: json.loads(d["meta"]) for d in result["documents"]}
    assert meta["a0"]["cluster_size"] == 3


def test_keep_policy_prefers_quality_on_equal_length(tmp_path):
    text = stdlib_texts(1)[0]
    first, second = swap_words(text, 0.005, 7), swap_words(text, 0.005, 8)
    size = min(len(first), len(second))
    docs = [doc("p", first[:size], quality={"score": 0.5}),
            doc("q", second[:size], quality={"score": 0.9})]
    assert len(docs[0].text) == len(docs[1].text)
    result = run(docs, DedupeConfig(exact=False), tmp_path)
    assert [d["id"] for d in result["documents"]] == ["q"]


def test_same_result_with_two_worker_processes(corpus, tmp_path):
    small = [d for d in corpus if d.id != "long"]
    # one unrolled round: the union-find finish must complete the components
    config = DedupeConfig(band_salts=3, cc_rounds=1, exact=False)
    one = run(small, config, tmp_path / "one")
    two = run(small, config, tmp_path / "two",
              "--direct_running_mode=multi_processing", "--direct_num_workers=2")
    assert one == two
    assert {d["id"] for d in one["documents"]} == {"a0", "b0", "c0", chain_keeper(small), "empty"}
    assert one["components"][0]["residual_edges"] > 0


def test_file_level_dedup_cuts_repeated_files(tmp_path):
    texts = stdlib_texts(3)
    def repo(doc_id: str, files: list[tuple[str, str]]) -> Document:
        text, spans = "<repo_name>r\n", []
        for path, body in files:
            block = f"<file_sep>{path}\n{body}\n"
            spans.append(Span(len(text), len(text) + len(block), f"file:{path}"))
            text += block
        return Document(doc_id, "code", "repo", text, spans)

    r1 = repo("r1", [("a.py", texts[0]), ("b.py", texts[1])])
    r2 = repo("r2", [("vendored/a.py", texts[0]), ("c.py", texts[2])])
    r3 = repo("r3", [("copy.py", texts[1])])
    result = run([r1, r2, r3], DedupeConfig(file_level=True, near=False), tmp_path)
    docs = {d["id"]: Document.from_row(d) for d in result["documents"]}
    assert set(docs) == {"r1", "r2"}
    assert [s.label for s in docs["r2"].spans] == ["file:c.py"]
    c_span = docs["r2"].spans[0]
    assert docs["r2"].text[c_span.start:c_span.end].startswith("<file_sep>c.py\n")
    assert result["drops"][0]["doc_id"] == "r3"
