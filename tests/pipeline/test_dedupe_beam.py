"""Dedupe on Beam: duplicate groups, chains, keep policy, ledger lines, worker independence.

The transform's outputs are checked inside the pipeline (`test_pipeline.TestPipeline` and
`assert_that`); only the worker-independence test takes outputs out, to compare two runs.
"""

from __future__ import annotations

import json
import random
import re
import sysconfig
from collections.abc import Callable
from pathlib import Path
from typing import Any

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing import test_pipeline
from apache_beam.testing.util import assert_that, equal_to

from longweave.filters.components import union_find
from longweave.filters.minhash import MinHashParams, jaccard, shingle_set
from longweave.pipeline.transforms.dedupe import ConnectedComponents, Dedupe
from longweave.pipeline.transforms.docio import (
    ReadDocuments,
    ReadSelected,
    read_row_group,
    row_groups,
)
from longweave.schemas.document import DOCUMENT_SCHEMA, Document, Span
from longweave.schemas.meta import DEDUPE, stage_keys
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


def chain(text: str, blocks: int = 30, links: int = 5) -> list[str]:
    """Sliding windows of `blocks` word blocks: neighbours ~0.95 Jaccard, the ends below 0.8."""
    words = text.split()
    size = len(words) // (blocks + links)
    parts = [" ".join(words[i * size:(i + 1) * size]) for i in range(blocks + links)]
    return [" ".join(parts[i:i + blocks]) for i in range(links + 1)]


def dedupe(p: beam.Pipeline, docs: list[Document], config: DedupeConfig) -> dict:
    return p | beam.Create(docs, reshuffle=False) | Dedupe(config)


def check(test: Callable[[list[Any]], None]) -> Callable[[list[Any]], None]:
    """An `assert_that` matcher from a function that asserts on the whole output."""
    def matcher(actual: list[Any]) -> None:
        test(list(actual))
    return matcher


def details(expected: dict[str, str]) -> Callable[[list[Any]], None]:
    """Matcher: exactly these drops, each a `duplicate` whose detail matches its pattern."""
    def test(drops: list[Any]) -> None:
        assert sorted(d.doc_id for d in drops) == sorted(expected)
        for d in drops:
            assert d.reason == "duplicate", d
            assert re.fullmatch(expected[d.doc_id], d.detail), (d.doc_id, d.detail)
    return check(test)


def ids(pcoll: beam.PCollection, label: str) -> beam.PCollection:
    return pcoll | label >> beam.Map(lambda d: d.id)


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


def write_stage(docs: list[Document], folder: Path) -> str:
    """`docs` as a finished stage's Parquet documents (what the dedupe stage reads)."""
    (folder / "documents").mkdir(parents=True)
    table = pa.Table.from_pylist([d.to_row() for d in docs], schema=DOCUMENT_SCHEMA)
    pq.write_table(table, folder / "documents" / "part-00000.parquet", row_group_size=4)
    return str(folder)


@pytest.mark.parametrize("from_files", [  # the CLI's way stays in the fast subset
    pytest.param(False, id="pcollection", marks=pytest.mark.slow),
    pytest.param(True, id="stage-files")])
def test_groups_found_one_survivor_each(corpus, tmp_path, from_files):
    """The same decisions whether the passes reuse the input or re-read the stage files
    (how the CLI runs it: no document crosses a shuffle)."""
    keeper = chain_keeper(corpus)
    chains = [f"chain{i}" for i in range(6)]
    with test_pipeline.TestPipeline() as p:
        if from_files:
            folder = write_stage(corpus, tmp_path / "filter")
            out = (p | ReadDocuments(folder)
                   | Dedupe(DedupeConfig(), source_dir=folder,
                            scratch_dir=str(tmp_path / "scratch")))
        else:
            out = dedupe(p, corpus, DedupeConfig())
        # every input is either kept or dropped with a ledger line, never both or neither
        assert_that(out["documents"] | beam.Map(
                        lambda d: (d.id, stage_keys(d.meta, DEDUPE).get("cluster_size"))),
                    equal_to([("a0", 3), ("b0", None), ("c0", None), (keeper, 6),
                              ("empty", None), ("long", None)]), label="kept")
        assert_that(out["drops"], details({
            "a1": "duplicate-of:a0 cluster:a0", "a2": "duplicate-of:a0 cluster:a0",
            "b1": "duplicate-of:b0 cluster:exact-[0-9a-f]{16}",
            # the chain x~y~z is one component kept as its longest member
            **{c: f"duplicate-of:{keeper} cluster:chain0" for c in chains if c != keeper},
        }), label="drops")
        assert_that(out["clusters"] | beam.Map(lambda c: (c["method"], c["keep"],
                                                          tuple(c["members"]))),
                    equal_to([("minhash", "a0", ("a0", "a1", "a2")),
                              ("minhash", keeper, tuple(chains)),
                              ("exact", "b0", ("b0", "b1"))]), label="clusters")
        assert_that(out["components"] | beam.Map(lambda s: s["residual_edges"]), equal_to([0]),
                    label="converged")
    if from_files:  # the shingle sets went to the scratch folder, not through the shuffles
        assert list((tmp_path / "scratch").glob("*.u32"))


def test_keep_policy_prefers_quality_on_equal_length():
    text = stdlib_texts(1)[0]
    first, second = swap_words(text, 0.005, 7), swap_words(text, 0.005, 8)
    size = min(len(first), len(second))
    docs = [doc("p", first[:size], filter={"quality": {"score": 0.5}}),
            doc("q", second[:size], filter={"quality": {"score": 0.9}})]
    assert len(docs[0].text) == len(docs[1].text)
    with test_pipeline.TestPipeline() as p:
        out = dedupe(p, docs, DedupeConfig(exact=False))
        assert_that(ids(out["documents"], "Kept"), equal_to(["q"]), label="kept")
        assert_that(out["drops"], details({"p": "duplicate-of:q cluster:p"}), label="drops")


def test_only_listed_kinds_are_near_deduped_unverified():
    a = stdlib_texts(1)[0]
    docs = [doc("a0", a), doc("a1", swap_words(a, 0.005, 1)),
            doc("a2", swap_words(a, 0.005, 2), kind="repo")]
    with test_pipeline.TestPipeline() as p:
        out = dedupe(p, docs, DedupeConfig(exact=False, verify=False, kinds=["text"]))
        assert_that(ids(out["documents"], "Kept"), equal_to(["a0", "a2"]), label="kept")
        assert_that(out["drops"], details({"a1": "duplicate-of:a0 cluster:a0"}), label="drops")


def test_components_exact_after_one_round_on_a_shuffled_chain():
    rng = random.Random(11)
    nodes = [f"n{i:04d}" for i in range(300)]
    rng.shuffle(nodes)
    edges = [(max(a, b), min(a, b)) for a, b in zip(nodes, nodes[1:], strict=False)]
    with test_pipeline.TestPipeline() as p:
        found = p | beam.Create(edges) | ConnectedComponents(rounds=1)
        assert_that(found["labels"], equal_to(sorted(union_find(edges).items())), label="labels")
        assert_that(found["stats"], check(_unfinished), label="stats")


def _unfinished(stats: list[dict]) -> None:
    """One round cannot turn a 300-node chain into a star: the finish had work to do."""
    assert len(stats) == 1 and stats[0]["rounds"] == 1 and stats[0]["residual_edges"] > 0


def test_file_level_dedup_cuts_repeated_files():
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

    def r2_keeps_only_its_own_file(docs: list[Document]) -> None:
        assert r1 in docs and len(docs) == 2
        (cut,) = [d for d in docs if d.id == "r2"]
        assert [s.label for s in cut.spans] == ["file:c.py"]
        assert stage_keys(cut.meta, DEDUPE) == {"duplicate_files_removed": ["file:vendored/a.py"],
                                                "duplicate_files_count": 1}
        assert cut.text[cut.spans[0].start:cut.spans[0].end].startswith("<file_sep>c.py\n")

    with test_pipeline.TestPipeline() as p:
        out = dedupe(p, [r1, r2, r3], DedupeConfig(file_level=True, near=False))
        assert_that(out["documents"], check(r2_keeps_only_its_own_file), label="documents")
        assert_that(out["drops"], details({"r3": r"duplicate-of:r1 cluster:files \(.*\)"}),
                    label="drops")


def materialise(folder: str, config: DedupeConfig, tmp: Path, *args: str
                ) -> dict[str, list]:
    """Every output as sorted JSON lines: what two runs compare byte for byte."""
    with beam.Pipeline(options=PipelineOptions(["--runner=DirectRunner", *args])) as p:
        found = p | ReadDocuments(folder) | Dedupe(config, source_dir=folder,
                                                   scratch_dir=str(tmp / "scratch"))
        for name, pcoll in found.items():
            (pcoll | f"Json{name}" >> beam.Map(lambda x: json.dumps(
                x.to_row() if hasattr(x, "to_row") else x, sort_keys=True))
             | f"Write{name}" >> beam.io.WriteToText(str(tmp / name)))
    return {name: sorted(line for f in sorted(tmp.glob(f"{name}-*"))
                         for line in f.read_text().splitlines())
            for name in ("documents", "drops", "clusters", "components")}


@pytest.mark.slow
def test_same_result_with_two_worker_processes(corpus, tmp_path):
    # a long chain (buckets past CLIQUE_MAX, so stars) that one round cannot finish
    links = [doc(f"link{i:02d}", t) for i, t in
             enumerate(chain(stdlib_texts(8)[7], blocks=40, links=24))]
    small = [d for d in corpus if d.id != "long"] + links
    folder = write_stage(small, tmp_path / "filter")
    # one unrolled round: the union-find finish must complete the components
    config = DedupeConfig(band_salts=3, cc_rounds=1, exact=False)
    one = materialise(folder, config, tmp_path / "one")
    two = materialise(folder, config, tmp_path / "two",
                      "--direct_running_mode=multi_processing", "--direct_num_workers=2")
    assert one == two
    kept = {json.loads(line)["id"] for line in one["documents"]}
    link_keeper = min(links, key=lambda d: (-len(d.text), d.id)).id
    assert kept == {"a0", "b0", "c0", chain_keeper(small), "empty", link_keeper}
    assert json.loads(one["components"][0])["residual_edges"] > 0


def test_selected_rows_are_read_alone(corpus, tmp_path):
    """The output pass reads only the documents still wanted, row group by row group."""
    folder = write_stage(corpus, tmp_path / "filter")
    path = str(next((tmp_path / "filter" / "documents").glob("*.parquet")))
    groups = row_groups(path)
    assert groups == -(-len(corpus) // 4) > 1  # 4 rows per group
    everything = [d for g in range(groups) for d in read_row_group(path, g)]
    assert everything == corpus
    kept = [d for g in range(groups) for d in read_row_group(
        path, g, lambda i, gone: i not in gone, gone={"a1", "b1", "long"})]
    assert [d.id for d in kept] == [d.id for d in corpus if d.id not in {"a1", "b1", "long"}]
    assert read_row_group(path, 0, lambda i: False) == []
    with test_pipeline.TestPipeline() as p:
        assert_that(p | ReadSelected(folder, lambda i: i.startswith("chain"))
                    | beam.Map(lambda d: d.id),
                    equal_to([d.id for d in corpus if d.id.startswith("chain")]))
