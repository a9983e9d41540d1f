"""Shared helpers for synthesis: keyed randomness, terms, passages and length measurement."""

from __future__ import annotations

import posixpath
import re
from array import array
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from longweave.schemas.document import Document
from longweave.schemas.meta import PATH, REPO, TITLE

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]{2,}")
_LOWER_WORD = re.compile(r"[a-z][a-z0-9_]{2,}")  # `_WORD` in a lower-cased text
# The only characters outside ASCII whose lower case holds an ASCII word character (every
# code point checked, tests/synth/test_synth_shortcuts.py): I WITH DOT ABOVE, KELVIN SIGN.
FOLDS_INTO_ASCII = ("\u0130", "\u212a")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z])")

# Words that say nothing about a document's topic, in prose or in code.
STOPWORDS: frozenset[str] = frozenset("""
the and for are but not you all any can had her was one our out day get has him his how man
new now old see two way who boy did its let put say she too use that with have this will your
from they know want been good much some time very when come here just like long make many
more only over such take than them well were what which their there these those would could
should about after again also being because before between both does each into most other
same shall then through under until upon where while whom why yes yet into may might must
said self def return import none true false class elif else pass raise try except finally
lambda yield assert global nonlocal del with print str int len list dict set tuple object
args kwargs init name value type data file path line text none
""".split())


def doc_title(doc: Document) -> str:
    """A document's name for headings and questions: its title, repository name or file
    name, never its locator. A locator is an absolute local path (an install folder), which
    would put the machine's layout into training text; meta keeps it for audit."""
    title = doc.meta.get(TITLE) or doc.meta.get(REPO)
    if not title and doc.meta.get(PATH):
        locator = str(doc.meta[PATH]).replace("\\", "/").rstrip("/")
        title = posixpath.basename(locator.split("#")[-1]) or None
    return str(title or doc.id).replace("\n", " ")[:120]


def term_counts(text: str) -> Counter[str]:
    """Lower-cased content words (3+ chars, not stopwords) with their counts.

    The text is lower-cased once and its words counted in C, instead of lower-casing each
    of millions of words; keys come out in each word's first-occurrence order either way.
    Lower-casing first finds the same words unless a character outside ASCII lower-cases
    into a word character (`FOLDS_INTO_ASCII`): such a text counts words as written and
    folds them per distinct spelling.
    """
    if any(c in text for c in FOLDS_INTO_ASCII):
        out: Counter[str] = Counter()
        for word, count in Counter(_WORD.findall(text)).items():
            out[word.lower()] += count
    else:
        out = Counter(_LOWER_WORD.findall(text.lower()))
    for word in [w for w in out if w in STOPWORDS or w.isdigit()]:
        del out[word]
    return out


def words(text: str) -> list[str]:
    """Content words in order, for word pools of synthetic tasks."""
    return [w.lower() for w in _WORD.findall(text) if w.isalpha() and w.lower() not in STOPWORDS]


@dataclass(frozen=True)
class Passage:
    """A sentence (prose) or line (code) at `[start, end)` of some text."""

    start: int
    end: int


def passages(text: str, min_chars: int = 40, max_chars: int = 400) -> list[Passage]:
    """Sentence-like units: sentences inside paragraphs, or lines where no sentence ends.

    Offsets point into `text` itself, so a quote of `text[start:end]` is verbatim.
    """
    out: list[Passage] = []
    para_start = 0
    bounds = [(m.start(), m.end()) for m in _PARAGRAPH_BREAK.finditer(text)] + [(len(text),) * 2]
    for brk_start, brk_end in bounds:
        _split_paragraph(text, para_start, brk_start, out, min_chars, max_chars)
        para_start = brk_end
    return out


def _split_paragraph(text: str, start: int, end: int, out: list[Passage],
                     min_chars: int, max_chars: int) -> None:
    paragraph = text[start:end]
    if _SENTENCE_END.search(paragraph) or paragraph.rstrip().endswith((".", "!", "?")):
        cuts = [m.start() for m in _SENTENCE_END.finditer(paragraph)]
        pieces = list(zip([0, *[m.end() for m in _SENTENCE_END.finditer(paragraph)]],
                          [*cuts, len(paragraph)], strict=True))
    else:
        pieces = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", paragraph)]
    for a, b in pieces:
        piece = paragraph[a:b]
        lead = len(piece) - len(piece.lstrip())
        trail = len(piece.rstrip())
        a2, b2 = start + a + lead, start + a + trail
        if min_chars <= b2 - a2 <= max_chars and len(_WORD.findall(text[a2:b2])) >= 4:
            out.append(Passage(a2, b2))


class LengthMeter:
    """Counts tokens with the recipe's tokenizer, or estimates from characters without one.

    The tokenizer loads lazily on first use, so the meter pickles as a path (Beam-safe).
    """

    def __init__(self, tokenizer_path: str | None, chars_per_token: float = 4.0) -> None:
        self.tokenizer_path = tokenizer_path
        self.chars_per_token = chars_per_token
        self._tokenizer = None
        self._starts: dict[str, array[int]] = {}  # the last MEMO_TEXTS texts' token starts

    def __getstate__(self) -> dict:
        return {"tokenizer_path": self.tokenizer_path, "chars_per_token": self.chars_per_token,
                "_tokenizer": None, "_starts": {}}

    @property
    def method(self) -> str:
        return "tokenizer" if self.tokenizer_path else f"chars-estimate:{self.chars_per_token:g}"

    def _tok(self):  # noqa: ANN202 - tokenizers.Tokenizer, imported lazily
        if self._tokenizer is None and self.tokenizer_path:
            from longweave.schemas.tokenizer_file import load_tokenizer

            self._tokenizer = load_tokenizer(self.tokenizer_path)
        return self._tokenizer

    def count(self, text: str, cap: int | None = None) -> int:
        """Tokens in `text`; with `cap`, any count above `cap` may come back as `cap + 1`
        (only a prefix is encoded, which is what makes huge documents cheap to measure)."""
        if self._tok() is None:
            return int(len(text) / self.chars_per_token + 0.5)
        if cap is None:
            return len(self.token_starts(text))
        starts = prefix_starts(self, text, cap)
        return len(starts) if len(starts) <= cap else cap + 1

    def position_index(self, text: str) -> TokenPositions:
        """Map char offsets to token offsets for one text (one encode, then bisection)."""
        if self._tok() is None:
            return TokenPositions(None, self.chars_per_token)
        return TokenPositions(self.token_starts(text), self.chars_per_token)

    def token_starts(self, text: str) -> array[int]:
        """Where each token of `text` starts (needs the tokenizer; read-only).

        Kept for the last `MEMO_TEXTS` texts: a finished sample is counted against its
        bucket, indexed for its distances and measured for its meta, and a megadoc
        measures its parts again on every fit, so an identical text is encoded once.
        Starts are a compact array, not the encoding (a few MB for a long text).
        """
        found = self._starts.get(text)
        if found is None:
            offsets = self._tok().encode(text, add_special_tokens=False).offsets
            found = array("q", [a for a, _ in offsets])
            while len(self._starts) >= MEMO_TEXTS:
                self._starts.pop(next(iter(self._starts)))
            self._starts[text] = found
        return found

    def chars_for(self, tokens: int, sample: str = "") -> int:
        """How many characters of text like `sample` make about `tokens` tokens."""
        if self._tok() is None or len(sample) < 200:
            return int(tokens * self.chars_per_token)
        probe = sample[:20_000]
        return int(tokens * len(probe) / max(1, self.count(probe)))


@dataclass
class TokenPositions:
    """Token index of a character offset; `None` starts means the chars estimate."""

    starts: Sequence[int] | None
    chars_per_token: float

    def token_at(self, char: int) -> int:
        if self.starts is None:
            return int(char / self.chars_per_token)
        return max(0, bisect_right(self.starts, char) - 1)


PREFIX_SLACK_TOKENS = 32
MEMO_TEXTS = 16  # texts whose token starts a meter keeps (see `LengthMeter.token_starts`)


def prefix_starts(meter: LengthMeter, text: str, max_tokens: int) -> array[int]:
    """Token starts of a prefix of `text` long enough to hold `max_tokens` tokens.

    Encoding only a prefix (grown by doubling) keeps measuring a 1M-character document
    against a 64K-token budget from encoding all of it. The prefix holds a slack of tokens
    past `max_tokens`, so the tokens up to there are the ones the whole text would give
    (only the last word before a prefix's end can tokenize differently). The whole text's
    starts come back when it is shorter than that.
    """
    chars = (max_tokens + 2 * PREFIX_SLACK_TOKENS) * 4
    while True:
        prefix = text[:chars]
        starts = meter.token_starts(prefix)
        if len(prefix) == len(text) or len(starts) > max_tokens + PREFIX_SLACK_TOKENS:
            return starts
        chars *= 2


def fit_to_tokens(text: str, meter: LengthMeter, max_tokens: int) -> str:
    """The longest prefix of `text`, cut at a line end when one is near, within `max_tokens`.

    One encode with offsets finds the cut; a prefix may re-tokenize a token or two
    differently at its end, so callers keep a little slack.
    """
    if max_tokens <= 0:
        return ""
    if meter._tok() is None:
        limit = int(max_tokens * meter.chars_per_token)
        if len(text) <= limit:
            return text
    else:
        starts = prefix_starts(meter, text, max_tokens)
        if len(starts) <= max_tokens:
            return text
        limit = starts[max_tokens]
    cut = text.rfind("\n", 0, limit)
    return text[: cut + 1] if cut > limit * 0.8 else text[:limit]
