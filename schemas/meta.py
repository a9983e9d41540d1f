"""The declared `meta` of every document kind, and the keys each later stage adds.

One JSON object per document, in two layers, each key with one owner:

- **top level: the kind's keys**, written once by whoever creates the document: the
  collect stage's reader for `book`, `repo`, `trajectory`, `text`; the synthesize stage for
  `megadoc`, `paraphrase_qa`, `synthetic_task`. Later stages read them and never write them.
- **one namespace per later stage**: `meta["filter"]`, `meta["dedupe"]`, `meta["tokenize"]`.
  Only that stage writes its namespace (through `with_stage_keys`), so a score, a language
  guess or a cluster id can never replace what a reader measured.

The TypedDicts below list every key with the reason it exists. Record fields that a recipe
keeps (`meta_fields` of books and texts) are the one open part: they keep their own name
at top level (see `record_meta`). Code that reads another owner's key uses the constants
and accessors here, not a string literal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal, TypedDict

# --- the later stages' namespaces --------------------------------------------------------
FILTER = "filter"
DEDUPE = "dedupe"
TOKENIZE = "tokenize"
STAGE_NAMESPACES: tuple[str, ...] = (FILTER, DEDUPE, TOKENIZE)

# --- top-level keys that a stage other than their writer reads ---------------------------
PATH = "path"  # synthesis titles an untitled document by it
TITLE = "title"  # synthesis headings, the report
QUALITY = "quality"  # the book reader's signals, shown by the report
STEPS = "steps"  # the filter's min_steps rule for trajectories
RESOLVED = "resolved"  # the filter's require_resolved rule for trajectories
COMPONENTS = "components"  # the packer prefers splitting between them
DEPENDENCY_EDGES = "dependency_edges"  # tokenize measures them
DEPENDENCY_LINKS = "dependency_links"  # tokenize measures them
DEPTH = "depth"  # the report's depth coverage
TOOL_CALLS_BY_TOOL = "tool_calls_by_tool"  # the report's entropy over tools
REPO = "repo"  # the report's entropy over repositories
AUTHOR = "author"  # the report's entropy over authors
LICENSE = "license"  # publish's dataset card
MEMBER_IDS = "member_ids"  # a synthetic sample's documents: publish derives its license
FIELDS = "fields"  # kept record fields whose name a reader or stage already owns
DEPENDENCY_DISTANCES = "dependency_distances"  # in meta["tokenize"]: the report charts them
# Spellings of a record's license field that `record_meta` stores as `license`.
LICENSE_FIELDS: tuple[str, ...] = ("license", "licence", "license_id", "license_expression",
                                   "spdx", "rights")


# --- shapes shared by several kinds -------------------------------------------------------
class ComponentRange(TypedDict):
    """Where one weakly connected component of a repository's import graph sits in its text."""

    start: int  # character offset of the component's first file
    end: int  # character offset after its last file
    files: int  # files in it


class DependencyDistances(TypedDict):
    """Per dependency of a document, how far the use is from what it depends on."""

    chars: list[int]  # later character minus earlier character, link by link
    tokens: list[int]  # the same links in tokens of the run's tokenizer (the report's unit)
    token_pairs: list[list[int]]  # [earlier, later] token index in the document, link by link:
    # with a piece's token range (segment index) they tell which links lie inside one row


class SampleLength(TypedDict):
    """How long a synthetic sample was measured to be when it was built."""

    tokens: int  # tokens as the meter counted them
    bucket: int  # the bucket the sample was built to fill
    measured_by: str  # "tokenizer" or a chars-per-token estimate: says if `tokens` is exact


# --- the collect stage: one TypedDict per collected kind ----------------------------------
class CollectedMeta(TypedDict, total=False):
    path: str  # the locator read, so quarantine, report and audit point back to the input
    record: str  # the record inside a multi-record input ("line 3", "row 0")
    format: str  # which input format or adapter produced the document
    redacted: dict[str, int]  # secrets and PII masked as the document was read, per kind
    # (recipe's filters.redact_*), so no intermediate file holds them (sources/redact.py)


class TextMeta(CollectedMeta, total=False):
    title: str  # a plain file's name; synthesis uses it for headings
    compression: list[str]  # layers undone by magic bytes ("gzip", ...): the input as it was
    license: str  # the record's license field (any of LICENSE_FIELDS), for the dataset card
    fields: dict[str, Any]  # kept record fields whose name a reader key or stage owns


class BookMeta(TextMeta, total=False):
    encoding: dict[str, Any]  # codec, how it was decided, line endings, repairs: decode audit
    author: str  # diversity entropy over authors
    language: str  # the language the book declares (Gutenberg header, OPF); not a guess
    release_date: str  # Gutenberg header: when the e-text was released
    updated: str  # Gutenberg header: when it was last updated
    ebook_number: int  # Gutenberg catalogue number: finds the same book across files
    gutenberg: dict[str, str | None]  # start/end marker lines that cut header and license
    notes_dropped_chars: int  # characters of production and transcriber notes removed
    date: str  # OPF dc:date
    identifier: str  # OPF dc:identifier (ISBN, URN)
    publisher: str  # OPF dc:publisher
    subjects: list[str]  # OPF dc:subject entries
    epub: dict[str, Any]  # OPF path, spine size, missing spine items: EPUB audit
    quality: dict[str, float]  # OCR and line-shape signals on the text as read (report)
    chapters: int  # chapter headings found (the `chapter:` spans)


class GraphStats(TypedDict, total=False):
    """The import graph of one repository (its component count is `len(meta["components"])`)."""

    files: int  # nodes
    edges: int  # resolved imports between files
    conditional_edges: int  # edges only some builds have (`#if X` include, Go build tag)
    external_imports: int  # imports that resolve outside the repository
    unresolved_imports: int  # imports naming the repository but no file of the checkout
    resolved_share: float  # edges / (edges + external + unresolved): what the resolver understood
    cycles: int  # strongly connected components of more than one file
    files_in_cycles: int  # files inside those cycles
    largest_cycle: int  # files in the largest cycle
    longest_chain: int  # longest dependency chain, in edges
    edge_chars: dict[str, float]  # summary of every edge's distance in characters (all edges)


class RepoMeta(CollectedMeta, total=False):
    repo: str  # repository name: diversity entropy over repositories
    input: Literal["directory", "git", "archive", "table"]  # how the repository arrived
    ref: str  # the git ref read (git inputs)
    files: int  # files rendered
    languages: dict[str, int]  # files per language
    order: str  # the file order ("dependencies-first")
    graph: GraphStats  # import graph statistics
    components: list[ComponentRange]  # the packer prefers splitting between components
    dependency_edges: list[list[int]]  # [importer, imported, chars] by file index (render order);
    # by index, not offset, so text edits inside files (redaction) leave them true
    dependency_edges_truncated: bool  # more edges exist than options.max_distances_listed
    external_imports: dict[str, int]  # imported names from outside, with counts
    unresolved_imports: dict[str, str]  # "<importer> -> <spec>": why no file of the checkout
    # matched an import that looks like the repository's own (a missed dependency, listed)
    conditional_edges: dict[str, str]  # "<importer> -> <imported>": the build condition
    # (`#if`/`#ifdef` around a C include, a Go file's build constraint) the edge needs
    skipped: dict[str, str]  # skipped path -> reason (capped at options.max_skipped_listed)
    skipped_counts: dict[str, int]  # skipped files per reason (never capped)
    skipped_truncated: bool  # `skipped` lists fewer paths than were skipped
    size_refusals: dict[str, str]  # path -> its size and the cap that refused it (listed
    # like `skipped`): an oversize or capped file can be traced to the option to raise
    lossy_decoded: list[str]  # files decoded with replacement characters
    resolve_errors: dict[str, str]  # path -> why its imports could not be resolved


class TrajectoryMeta(CollectedMeta, total=False):
    session_id: str  # the session's own id (or `sha-<content hash>`)
    session_id_origin: str  # where `session_id` came from
    content_hash: str  # hash of the session's content; part of the document id
    id_scheme: str  # why two exports of one session get one id (exact dedupe keeps one)
    agent: str | None  # agent name
    agent_version: str | None  # agent version
    model: str | None  # model that acted
    summary: str | None  # the session's summary, when the format has one
    parent_session_id: str | None  # the parent of a side chain / sub-agent run
    subagents: list[str]  # session ids of its sub-agent runs
    template: str  # how turns were rendered ("default" or a chat template's hash)
    secrets_redacted: dict[str, int]  # secrets masked by the reader, per kind
    secrets_redacted_total: int  # their sum
    observations_capped: int  # tool results cut to options.max_observation_chars
    observation_chars_omitted: int  # characters those cuts removed
    steps: int  # steps of the session: the filter's min_steps rule
    steps_by_source: dict[str, int]  # steps per source (user, agent, environment...)
    tool_calls: int  # tool calls made
    tool_calls_by_tool: dict[str, int]  # tool calls per tool: diversity over tools
    observations: int  # tool results
    observation_bytes: int  # UTF-8 bytes of tool results before capping
    unanswered_tool_calls: int  # calls no result answers
    orphan_observations: int  # results that answer no call
    wall_clock_seconds: float | None  # last timestamp minus first
    exit_status: str | None  # how the session ended
    demo_steps: int  # demonstration steps included
    step_tokens: dict[str, int]  # prompt and completion tokens the format recorded
    longest_refer_back_chars: int  # the farthest an agent turn reaches back to a result
    refer_back_token: str | None  # the token that made that link
    results_referred_back: int  # tool results some later agent turn reuses
    dependency_links: list[list[int]]  # [result end, referring turn start] in characters
    final_metrics: dict[str, Any]  # the format's final metrics (cost, tokens...)
    session_id_conflict: bool  # another session in the file has this id and other content
    # task and outcome: what a trainer filters and conditions on (None when unknown)
    instance_id: str | None  # the benchmark task (SWE-bench id): joins evaluation reports
    problem_statement: str | None  # the task as posed, apart from the prompt around it
    final_patch: str | None  # the submission / git patch the run ended with: its outcome
    resolved: bool | None  # solved the task: from the record or the joined report.json
    fail_to_pass: list[str] | None  # tests the patch must make pass (SWE-bench)
    pass_to_pass: list[str] | None  # tests that must keep passing (SWE-bench)
    base_commit: str | None  # the commit the task starts from: reproduces the run
    result_explanation: str  # the resolver's own account of its success or failure
    evaluation: dict[str, Any]  # the joined report: path, applied, test pass/fail counts
    started_at: str | None  # first timestamp (ISO-8601 UTC): when the run happened
    duration_s: float | None  # last minus first timestamp: how long the run took
    events_not_rendered: dict[str, int]  # steps kept in counts but not rendered, per rule
    # (runtime noise, empty steps, excluded demos)
    coverage: dict[str, Any]  # content pieces found in the text / omitted by rule / missing:
    # proof the rendering lost nothing it did not account for


# --- the synthesize stage: the synthetic kinds --------------------------------------------
class SampleMeta(TypedDict, total=False):
    method: str  # how the sample was built (megadoc method, QA method, task family)
    job_id: str  # the plan's job: part of the id, seeds the sample's randomness
    member_ids: list[str]  # documents the sample is made of (verification, audit)
    questions: list[dict[str, Any]]  # each question: evidence/question offsets, distances
    dependency_links: list[list[int]]  # [evidence end, question start] in characters
    length: SampleLength  # measured length against the target bucket


class MegadocMeta(SampleMeta, total=False):
    planned_member_ids: list[str]  # members the plan chose (some may not fit the bucket)
    parts: list[dict[str, Any]]  # per part: doc id, title, quotable (originals only)
    cross_refs: list[dict[str, Any]]  # inserted cross-references: label and offset
    generator: dict[str, Any]  # the generator backend that wrote questions / rephrasings
    paraphrased: bool  # whether a model rewrote text (stitch)
    usage: dict[str, float]  # generator requests, tokens, cost


class ParaphraseQaMeta(SampleMeta, total=False):
    target_depth: float  # where the plan wanted the evidence (0 = start, 1 = end)
    depth: float  # where the evidence is: the report's depth coverage
    evidence: dict[str, Any]  # doc id, offsets, quote start, cue of the evidence
    template: str  # chat template of the rendered sample
    messages: list[dict[str, Any]]  # role and offsets of each chat message
    generator: dict[str, Any]  # the generator backend (name, whether it paraphrases)
    paraphrased: bool  # whether the answer paraphrases instead of quoting
    usage: dict[str, float]  # generator requests, tokens, cost
    note: str  # a caveat on how the sample was made (offline generator)
    family: str  # question family (next_word, code_*, book_*, traj_*): the report's unit
    evidence_spans: list[dict[str, Any]]  # every evidence span (doc id, offsets), in order
    subject: dict[str, Any] | None  # what the question is about: doc id, name, offsets
    facts: dict[str, Any]  # what the family's checker re-derived from the row to accept it
    reference_answer: str  # the offline answer a model's answer was checked against


class SyntheticTaskMeta(SampleMeta, total=False):
    family: str  # RULER task family
    value_type: str | None  # needle value type (numbers, words, uuids) for niah families
    target_depth: float  # planned depth of the first needle (tasks with needles only)
    depth: float  # realised depth of the first needle: the report's depth coverage
    answer: str  # the expected answer
    template: str  # chat template of the rendered sample
    messages: list[dict[str, Any]]  # role and offsets of each chat message


# --- the later stages' namespaces ---------------------------------------------------------
class ChunkQuality(TypedDict, total=False):
    score: float  # share of judged text in passing chunks: dedupe's keep policy, report
    chunks: int  # chunks judged
    bad_chunks: int  # chunks that failed a rule
    failed: dict[str, int]  # failing chunks per rule
    removed: list[str]  # labels of the chunks cut out (on_bad_chunk: drop_chunk)


class FilterMeta(TypedDict, total=False):
    quality: ChunkQuality  # the chunk judgement (kinds with prose or code rules)
    language: str  # the language identifier's guess (not for code)
    language_score: float  # its mean probability over the samples
    redactions: dict[str, int]  # PII and secrets masked by the filter, per kind


class DedupeMeta(TypedDict, total=False):
    cluster: str  # the near-duplicate cluster this document was kept from
    cluster_size: int  # members of that cluster
    duplicate_files_removed: list[str]  # `file:` labels dropped as copies kept elsewhere
    duplicate_files_count: int  # how many files were dropped


class TokenizeMeta(TypedDict, total=False):
    dependency_distances: DependencyDistances  # dependency links measured in chars and tokens


KIND_META: dict[str, type] = {
    "book": BookMeta, "repo": RepoMeta, "trajectory": TrajectoryMeta, "text": TextMeta,
    "megadoc": MegadocMeta, "paraphrase_qa": ParaphraseQaMeta,
    "synthetic_task": SyntheticTaskMeta,
}
STAGE_META: dict[str, type] = {FILTER: FilterMeta, DEDUPE: DedupeMeta, TOKENIZE: TokenizeMeta}


def declared_keys(kind: str) -> frozenset[str]:
    """The top-level keys a document of `kind` may carry (kept record fields aside)."""
    declared = KIND_META[kind]
    return frozenset(declared.__required_keys__ | declared.__optional_keys__) | frozenset(
        STAGE_NAMESPACES)


# --- writing ------------------------------------------------------------------------------
def with_stage_keys(meta: Mapping[str, Any], stage: str, **values: Any) -> dict[str, Any]:
    """A copy of `meta` with `values` merged into `stage`'s namespace; nothing else changes."""
    if stage not in STAGE_NAMESPACES:
        raise ValueError(f"{stage!r} is not a stage namespace ({', '.join(STAGE_NAMESPACES)})")
    undeclared = set(values) - STAGE_META[stage].__optional_keys__
    if undeclared:
        raise ValueError(f"meta[{stage!r}] declares no key {sorted(undeclared)}")
    return {**meta, stage: {**stage_keys(meta, stage), **values}}


def record_meta(record: Mapping[str, Any], names: Iterable[str], computed: Iterable[str] = ()
                ) -> dict[str, Any]:
    """The record fields a recipe keeps (`meta_fields`), as top-level meta of the document.

    A field keeps its name, except a license under any of LICENSE_FIELDS, which becomes
    `license` (what publish reads). A field whose name a stage namespace or a key the
    reader `computed` itself already owns goes under `fields`, so it overwrites nothing.
    """
    owned = set(STAGE_NAMESPACES) | set(computed) | {FIELDS}
    out: dict[str, Any] = {}
    for name in names:
        if name not in record:
            continue
        value = record[name]
        key = LICENSE if name in LICENSE_FIELDS and _usable_license(value) else name
        if key in owned or key in out:
            out.setdefault(FIELDS, {})[name] = value
        else:
            out[key] = value
    return out


def _usable_license(value: Any) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool) and bool(
        str(value).strip())


# --- reading ------------------------------------------------------------------------------
def stage_keys(meta: Mapping[str, Any], stage: str) -> dict[str, Any]:
    """A stage's namespace of `meta` (empty when the stage wrote nothing)."""
    value = meta.get(stage)
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def filter_score(meta: Mapping[str, Any]) -> float | None:
    """The filter's chunk score (share of text in passing chunks); None when never judged."""
    quality = stage_keys(meta, FILTER).get(QUALITY)
    return _number(quality.get("score")) if isinstance(quality, dict) else None


def numeric_signals(values: Any) -> dict[str, float]:
    """The numeric entries of a signals dict (booleans, strings, lists and dicts left out)."""
    if not isinstance(values, dict):
        return {}
    found = {str(k): _number(v) for k, v in values.items()}
    return {k: v for k, v in found.items() if v is not None}


def token_distances(meta: Mapping[str, Any]) -> list[float]:
    """The tokenize stage's dependency distances in tokens (negative ones left out)."""
    measured = stage_keys(meta, TOKENIZE).get(DEPENDENCY_DISTANCES)
    values = measured.get("tokens") if isinstance(measured, dict) else None
    if not isinstance(values, list):
        return []
    return [v for v in map(_number, values) if v is not None and v >= 0]


def token_pairs(meta: Mapping[str, Any]) -> list[tuple[int, int]]:
    """The tokenize stage's `[earlier, later]` token positions per link (backward ones left
    out, as in `token_distances`); empty when tokenize recorded none."""
    measured = stage_keys(meta, TOKENIZE).get(DEPENDENCY_DISTANCES)
    values = measured.get("token_pairs") if isinstance(measured, dict) else None
    if not isinstance(values, list):
        return []
    pairs = [(int(p[0]), int(p[1])) for p in values if isinstance(p, list | tuple)
             and len(p) == 2 and all(_number(v) is not None for v in p)]
    return [(a, b) for a, b in pairs if b >= a]


def sample_depth(meta: Mapping[str, Any]) -> float | None:
    """Where a sample's needle or evidence sits, in [0, 1]; None when it has none."""
    depth = _number(meta.get(DEPTH))
    return depth if depth is not None and 0 <= depth <= 1 else None


def license_of(meta: Mapping[str, Any]) -> str | None:
    """The license the document's record states, stripped; None when it states none."""
    value = meta.get(LICENSE)
    return str(value).strip() if _usable_license(value) else None
