"""Loading a `tokenizer.json`, the one way every layer does it.

It sits here, in the lowest layer, because synthesis (to measure lengths), the
tokenize/pack core, the report and `inspect` all load the same file through FileSystems.
"""

from __future__ import annotations

from tokenizers import Tokenizer

from longweave.schemas import fs


def load_tokenizer(path: str) -> Tokenizer:
    """Load a tokenizer.json through FileSystems (works for gs:// paths too)."""
    return Tokenizer.from_str(fs.read_bytes(path).decode("utf-8"))
