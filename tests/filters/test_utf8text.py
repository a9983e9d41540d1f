"""The UTF-8 fold equals Python's own `fold(text).encode()`, and its character flags equal
`re`'s `\\w` and `str.isspace`, on texts mixing every path (same-width folds, width-changing
and contextual ones, 4-byte characters, lone surrogates)."""

import random
import re

import numpy as np
import pytest

from longweave.filters.utf8text import folded_utf8

ALPHABET = ("aZ _9\t\n\x1c\x85\xa0\u2028\u3000"  # ASCII, controls, wide spaces
            "\u00e9\u00c9\u00df\u0130\u212a\u03a3\u03c3\u1e9e\ufb01"  # folds of every width
            "\u2019\u201c\u2014\u0301\u4eac\u00bd\u0663"  # punctuation, combining, CJK, numerals
            "\U0001f600\U00010400\ud800")  # 4-byte (Deseret capital folds), lone surrogate


def samples(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    picks = ["", "plain ascii Text", "Caf\u00e9 \u201cquoted\u201d", "\u039f\u0394\u039f\u03a3"]
    return picks + ["".join(rng.choice(ALPHABET) for _ in range(rng.randrange(1, 40)))
                    for _ in range(count)]


@pytest.mark.parametrize("fold", [str.lower, str.casefold])
def test_fold_equals_python_on_every_path(fold):
    for text in samples(3000, seed=1):
        folded = folded_utf8(text, fold)
        expected = fold(text).encode("utf-8", "surrogatepass")
        assert folded.data == expected, repr(text)
        assert folded.codes.tobytes() == expected
        # the located characters are exactly the non-ASCII ones of the folded text
        wide = [i for i, ch in enumerate(fold(text)) if ord(ch) >= 0x80]
        assert folded.points.tolist() == [ord(fold(text)[i]) for i in wide]


def test_flags_match_re_word_and_isspace():
    for text in samples(2000, seed=2):
        folded = folded_utf8(text, str.lower)
        lowered = text.lower()
        per_byte_word, per_byte_space = [], []
        for ch in lowered:
            width = len(ch.encode("utf-8", "surrogatepass"))
            per_byte_word += [int(re.fullmatch(r"\w", ch) is not None)] * width
            per_byte_space += [int(ch.isspace())] * width
        words = folded.word_flags()
        spaces = folded.space_flags()
        assert words[0] == words[-1] == spaces[0] == spaces[-1] == 0  # the padding
        assert words[1:-1].tolist() == per_byte_word, repr(text)
        assert spaces[1:-1].tolist() == per_byte_space, repr(text)
        assert words.dtype == np.int8
