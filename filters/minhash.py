"""The one MinHash: shingle hashes, signatures, LSH band keys and Jaccard, vectorised with numpy.

Every near-duplicate measure in longweave goes through here, each with its own
`MinHashParams`: dedupe (word 5-grams, 128 permutations, FP/FN-optimal bands), synthesis
grouping (word 3-grams for ICP neighbours) and the report (token-id 5-grams of packed
segments, 8 x 8 bands). One hash family means one set of tests for all three.

Speed comes from never touching a word or a permutation in Python:
- words are found and hashed over the whole text at once: code points -> a `\\w` lookup
  table -> per-character terms weighted by their position inside the word -> one
  `add.reduceat` per text -> a 64-bit finaliser (murmur3 fmix64);
- token ids (and characters) are finalised to 64 bits one by one, with no text involved;
- n-grams are a weighted sum of shifted unit-hash arrays (words, characters or token
  ids), finalised to 32 bits;
- the permutations are the multiply-add family `a * x + b mod 2^32` (a odd: a bijection
  of 32-bit values), one uint32 `(shingles x permutations)` matrix per block of shingles,
  minimum over the block. uint32 wraps for free and runs in SIMD lanes; no Mersenne
  reduction is needed because the inputs are already well-mixed hashes.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, TypeVar

import numpy as np
import xxhash

from longweave.filters.utf8text import Utf8Text, normal_form

MAX_HASH = np.uint32(0xFFFFFFFF)
_SPACE = re.compile(r"\s+")
_FMIX_1, _FMIX_2 = np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_BLOCK_VALUES = 1 << 19  # uint32 cells per (permutations x shingles) block: 2 MB (measured
# fastest: smaller blocks pay reduceat per block, larger ones leave the cache)
_WINDOW = 1 << 18  # bytes summed at once: bounds memory for multi-million-char texts

Shingle = Literal["word", "char", "token"]  # token: the source is an array of token ids
Member = TypeVar("Member", bound=Hashable)


@dataclass(frozen=True)
class MinHashParams:
    """Everything that must match between two runs for their signatures to compare."""

    shingle: Shingle = "word"
    ngram: int = 5
    num_perm: int = 128
    threshold: float = 0.8
    bands: int = 9
    rows: int = 13
    seed: int = 0

    @classmethod
    def create(cls, shingle: Shingle = "word", ngram: int = 5,
               num_perm: int = 128, threshold: float = 0.8, bands: int | None = None,
               rows: int | None = None, seed: int = 0, verify: bool = False
               ) -> MinHashParams:
        """Params with explicit bands x rows, else the banding that suits `verify`: the
        FP/FN balance when candidates are taken as duplicates, the recall-first banding
        (`verified_bands_rows`) when an exact check judges every candidate."""
        if bands is None or rows is None:
            choose = verified_bands_rows if verify else optimal_bands_rows
            bands, rows = choose(threshold, num_perm)
        return cls(shingle, ngram, num_perm, threshold, bands, rows, seed)

    def permutations(self, count: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The (a, b) uint32 coefficients of the first `count` (default all) permutations.

        Drawn from the seed, all `num_perm` at once, so a shorter signature is a prefix of
        the full one.
        """
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 0x6D696E68]))
        coefficients = rng.integers(0, 1 << 32, (2, self.num_perm), dtype=np.uint64)
        a = coefficients[0].astype(np.uint32) | np.uint32(1)
        b = coefficients[1].astype(np.uint32)
        return a[:count].copy(), b[:count].copy()

    def band_permutations(self) -> tuple[np.ndarray, np.ndarray]:
        """Only the bands x rows permutations LSH reads: the rest would be wasted work."""
        return self.permutations(self.bands * self.rows)


@lru_cache(maxsize=64)
def optimal_bands_rows(threshold: float, num_perm: int) -> tuple[int, int]:
    """bands x rows minimising equal-weight false positive + false negative probability.

    Cached: the optimum integrates over every split (milliseconds), and callers that build
    params per document (synthesis sketches) would pay it each time.
    """
    from datasketch.lsh import _optimal_param

    return _optimal_param(threshold, num_perm, 0.5, 0.5)


# With verification a false candidate costs one exact Jaccard, never a wrong removal, so
# the banding is free to aim at recall. What bounds it is the work: the mean candidate
# probability of a pair below the threshold (similarity uniform over [0, threshold)) stays
# at most this, i.e. at most one false candidate per document for every four sub-threshold
# relatives it has (same-author books, a repository's sibling files, boilerplate-sharing
# chunks). A Jaccard of two 5,000-shingle sets costs about a tenth of one signature, so
# even a document with a dozen such relatives spends less on checks than on its sketch.
# (Stars per bucket also cap the edges at one per band and document, whatever the data.)
VERIFIED_MEAN_FP = 0.25


def _candidate_probability(similarity: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """The LSH S-curve: chance that a pair at `similarity` shares at least one band."""
    return 1.0 - (1.0 - similarity ** rows) ** bands


@lru_cache(maxsize=64)
def verified_bands_rows(threshold: float, num_perm: int,
                        mean_fp: float = VERIFIED_MEAN_FP) -> tuple[int, int]:
    """bands x rows with the smallest false-negative area over [threshold, 1] among those
    whose mean candidate probability below the threshold is at most `mean_fp`.

    At threshold 0.8 and 128 permutations: 18 x 7 (a pair at 0.8 is a candidate 98.6% of
    the time, against 40% with the balanced 9 x 13).
    """
    below = (np.arange(500) + 0.5) / 500 * threshold  # midpoints: a mean, not a sum
    above = threshold + (np.arange(500) + 0.5) / 500 * (1 - threshold)
    best: tuple[float, int, int] | None = None
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            if _candidate_probability(below, bands, rows).mean() > mean_fp:
                continue
            missed = float((1 - _candidate_probability(above, bands, rows)).mean())
            if best is None or (missed, bands * rows, bands) < best:
                best = (missed, bands * rows, bands)
    if best is None:  # only a zero budget gets here: one band of every permutation
        return 1, num_perm
    return best[2], best[1] // best[2]


@lru_cache(maxsize=1)
def _gram_weights() -> np.ndarray:
    """Fixed odd multipliers, one per position in an n-gram (drawn after 64 that an earlier
    word hash used, so token and character signatures keep their values)."""
    rng = np.random.default_rng(0x73686E67)
    return (rng.integers(0, 1 << 63, 128, dtype=np.uint64) | np.uint64(1))[64:]


def _fmix64(x: np.ndarray) -> np.ndarray:
    """murmur3's 64-bit finaliser, in place: every output bit depends on every input bit."""
    x ^= x >> np.uint64(33)
    x *= _FMIX_1
    x ^= x >> np.uint64(33)
    x *= _FMIX_2
    x ^= x >> np.uint64(33)
    return x


@lru_cache(maxsize=1)
def _ascii_lower() -> np.ndarray:
    return np.frombuffer(bytes(range(128)).decode("ascii").lower().encode("ascii"), np.uint8)


def _code_points(text: str) -> np.ndarray:
    """The lower-cased text as an array of code points (1 byte each when it is ASCII:
    then lower-casing is a 128-entry lookup instead of a new string)."""
    if text.isascii():
        return _ascii_lower()[np.frombuffer(text.encode("ascii"), dtype=np.uint8)]
    return np.frombuffer(text.lower().encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def word_hashes(text: str) -> np.ndarray:
    """64-bit hashes of the `\\w+` words of `text` in its normal form (NFKC, case-folded:
    `utf8text.normal_form`), in order."""
    return word_hashes_of(normal_form(text))


def word_shingles(folded: Utf8Text, ngram: int) -> np.ndarray:
    """`shingle_hashes(text, "word", ngram)` of a text already in its normal form (exact
    dedup's key reads the same form, so a document is folded once for both)."""
    return _ngram_hashes(word_hashes_of(folded), ngram)


def word_hashes_of(folded: Utf8Text) -> np.ndarray:
    """`word_hashes` of a text already folded.

    A word's hash is a polynomial over its UTF-8 bytes, `sum(byte_j * P^j)` mod 2^64 plus
    a term for its length, finalised by fmix64. The sums come from one running sum over
    the text (`cumsum` of `byte_j * P^j`), so a word costs two look-ups and no pass of its
    own; texts are summed in windows of `_WINDOW` bytes (memory stays bounded), and a word
    longer than a window is hashed by its first `_WINDOW` bytes.
    """
    is_word = folded.word_flags()  # padded: runs start and end inside
    edges = np.flatnonzero(is_word[1:] != is_word[:-1])
    starts, ends = edges[0::2], edges[1::2]
    if not len(starts):
        return np.empty(0, dtype=np.uint64)
    np.minimum(ends, starts + _WINDOW, out=ends)
    powers, inverses, lengths = _polynomial_tables()
    out = np.empty(len(starts), dtype=np.uint64)
    first = 0
    while first < len(starts):
        base = int(starts[first])
        last = int(np.searchsorted(starts, base + _WINDOW))  # words starting in the window
        size = int(ends[last - 1]) - base
        window = np.empty(size + 1, dtype=np.uint64)
        window[0] = 0
        np.multiply(folded.codes[base:base + size], powers[:size], out=window[1:])
        np.cumsum(window, out=window)
        head, tail = starts[first:last] - base, ends[first:last] - base
        sums = window[tail] - window[head]
        sums *= inverses[head]  # as if every word started at position 0
        sums += lengths[tail - head]
        out[first:last] = sums
        first = last
    return _fmix64(out)


@lru_cache(maxsize=1)
def _polynomial_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """P^j and P^-j mod 2^64 for every position of a window (P odd, so invertible), and
    one fixed term per word length (so words of different lengths differ by more than
    their bytes)."""
    size = 2 * _WINDOW + 1
    base = np.uint64(0x100000001B3 * 2 + 1)  # an odd multiplier (FNV's prime, doubled + 1)
    inverse = np.uint64(pow(int(base), -1, 1 << 64))
    powers = np.full(size, base, dtype=np.uint64)
    powers[0] = 1
    np.multiply.accumulate(powers, out=powers)
    inverses = np.full(size, inverse, dtype=np.uint64)
    inverses[0] = 1
    np.multiply.accumulate(inverses, out=inverses)
    lengths = _fmix64(np.arange(size, dtype=np.uint64) + _GOLDEN)
    return powers, inverses, lengths


def _ngram_hashes(units: np.ndarray, ngram: int) -> np.ndarray:
    """32-bit hashes of every run of `ngram` consecutive units (one run if fewer units)."""
    if len(units) == 0:
        return np.empty(0, dtype=np.uint32)
    gram_weights = _gram_weights()
    width = min(ngram, len(units))
    count = len(units) - width + 1
    combined = units[:count] * gram_weights[0]
    for offset in range(1, width):
        combined += units[offset:offset + count] * gram_weights[offset % len(gram_weights)]
    return (_fmix64(combined) >> np.uint64(32)).astype(np.uint32)


def _unit_hashes(values: np.ndarray) -> np.ndarray:
    """64-bit hashes of integer units (code points, token ids), one each."""
    return _fmix64(np.asarray(values).astype(np.uint64) + _GOLDEN)


def shingle_hashes(source: str | np.ndarray, shingle: Shingle, ngram: int) -> np.ndarray:
    """uint32 hashes of the n-grams of `source`: words or characters of normalised
    (lower-case) text, or token ids of an integer array (`shingle="token"`).

    Words are `\\w+` runs; characters are taken after collapsing whitespace. A source
    shorter than one n-gram is one shingle; a source without any unit has none.
    """
    if shingle == "token":
        return _ngram_hashes(_unit_hashes(source), ngram)
    if shingle == "word":
        return _ngram_hashes(word_hashes(source), ngram)
    normal = _SPACE.sub(" ", source).strip()
    return _ngram_hashes(_unit_hashes(_code_points(normal)), ngram)


@lru_cache(maxsize=16)
def _all_permutations(params: MinHashParams) -> tuple[np.ndarray, np.ndarray]:
    """Drawn once per params for callers that sketch item by item (read-only: shared)."""
    a, b = params.permutations()
    a.flags.writeable = b.flags.writeable = False
    return a, b


def signature(hashes: np.ndarray, params: MinHashParams,
              perms: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """The MinHash signature (uint32, one value per permutation in `perms`, default all
    `num_perm`) of a set of well-mixed 32-bit shingle hashes (as `shingle_hashes` makes).

    The block is `(permutations x shingles)`, so both the multiply-add (a scalar times a
    row) and the minimum (along a row) run over contiguous memory. An empty set gets
    all-max values; it never collides with a real signature by chance.
    """
    return signatures([hashes], params, perms)[0]


def signatures(hash_sets: list[np.ndarray], params: MinHashParams,
               perms: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """`signature` of many shingle sets at once, one row each (a bundle of documents).

    The sets are concatenated and cut into the same `(permutations x shingles)` blocks, so
    short documents share one block (and its numpy calls) instead of paying them each;
    `minimum.reduceat` takes every document's minimum inside a block.
    """
    a, b = perms if perms is not None else _all_permutations(params)
    lengths = np.fromiter((len(h) for h in hash_sets), dtype=np.int64, count=len(hash_sets))
    out = np.full((len(hash_sets), len(a)), MAX_HASH, dtype=np.uint32)
    filled = np.flatnonzero(lengths)
    if not len(filled):
        return out
    values = np.concatenate([np.asarray(hash_sets[i], dtype=np.uint32) for i in filled])
    owner = np.repeat(filled, lengths[filled])
    step = max(1, _BLOCK_VALUES // max(1, len(a)))
    block = np.empty((len(a), min(step, len(values))), dtype=np.uint32)
    column_a, column_b = a[:, None], b[:, None]
    for start in range(0, len(values), step):
        chunk, who = values[None, start:start + step], owner[start:start + step]
        rows = block[:, :chunk.shape[1]]
        np.multiply(column_a, chunk, out=rows)
        rows += column_b
        firsts = np.flatnonzero(np.concatenate(([True], who[1:] != who[:-1])))
        docs = who[firsts]  # distinct within a block: a document's shingles are contiguous
        out[docs] = np.minimum(out[docs], np.minimum.reduceat(rows, firsts, axis=1).T)
    return out


def band_keys(sig: np.ndarray, params: MinHashParams) -> list[tuple[int, int]]:
    """One `(band, hash of the band's rows)` per band: equal keys make LSH candidates.

    The hash keeps 63 bits: a key below 2^63 is an int Beam's coder writes natively,
    where one above it (half of all 64-bit hashes) would be pickled at every shuffle."""
    rows = params.rows
    data = np.ascontiguousarray(sig[: params.bands * rows])
    return [(band, xxhash.xxh64_intdigest(data[band * rows:(band + 1) * rows].tobytes()) >> 1)
            for band in range(params.bands)]


def sketch(source: str | np.ndarray, params: MinHashParams,
           perms: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """The signature of a text or token-id array, shingled as `params` says."""
    return signature(shingle_hashes(source, params.shingle, params.ngram), params, perms)


def band_buckets(keyed: Iterable[tuple[Member, Iterable[Hashable]]]
                 ) -> dict[Hashable, list[Member]]:
    """LSH buckets: the members (in input order) under each band key they carry.

    Members sharing a bucket are candidate near-duplicates; a bucket of one is no news.
    """
    buckets: dict[Hashable, list[Member]] = {}
    for member, keys in keyed:
        for key in keys:
            buckets.setdefault(key, []).append(member)
    return buckets


def shingle_set(source: str | np.ndarray, params: MinHashParams) -> np.ndarray:
    """Sorted unique shingle hashes: the set exact Jaccard is computed on."""
    return sorted_unique(shingle_hashes(source, params.shingle, params.ngram))


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """`np.unique` by one sort (numpy's default hash-based unique is slower on uint32)."""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def jaccard(first: np.ndarray, second: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted unique hash arrays (two empty sets: 1)."""
    if len(first) == 0 and len(second) == 0:
        return 1.0
    common = len(np.intersect1d(first, second, assume_unique=True))
    return common / (len(first) + len(second) - common)


def estimated_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Share of equal signature values: the MinHash estimate of Jaccard similarity."""
    return float(np.mean(sig_a == sig_b))
