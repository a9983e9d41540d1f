"""Real text for synthesis tests: stdlib source files, a small BPE trained on them, and
the base of the local chat-completions servers the generator tests talk to."""

from __future__ import annotations

import functools
import json
import sysconfig
import tempfile
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from longweave.schemas.document import Document, make_document_id

STDLIB = Path(sysconfig.get_paths()["stdlib"])
MODULES = (
    "json/__init__.py", "json/decoder.py", "json/encoder.py", "http/client.py",
    "http/server.py", "email/message.py", "email/parser.py", "csv.py", "textwrap.py",
    "string.py", "urllib/parse.py", "logging/handlers.py",
)


def stdlib_documents(modules: tuple[str, ...] = MODULES) -> list[Document]:
    docs = []
    for name in modules:
        path = STDLIB / name
        if path.is_file():
            docs.append(Document(make_document_id("stdlib", name), "stdlib", "text",
                                 path.read_text(encoding="utf-8"), meta={"title": name}))
    return docs


@functools.lru_cache(maxsize=1)
def trained_tokenizer() -> str:
    """A byte-level BPE trained on a few stdlib files; returns its tokenizer.json path."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=1200, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([d.text for d in stdlib_documents()], trainer)
    path = Path(tempfile.mkdtemp(prefix="synth-tok-")) / "tokenizer.json"
    tok.save(str(path))
    return str(path)


CHI2_95 = {4: 9.488, 9: 16.919}  # chi-square critical values at p = 0.05 by degrees of freedom


def chi_square_uniform_ok(counts: list[int]) -> bool:
    """Pearson's chi-square against a uniform spread, accepted at the 5% level."""
    expected = sum(counts) / len(counts)
    statistic = sum((c - expected) ** 2 / expected for c in counts)
    return statistic < CHI2_95[len(counts) - 1]


class ChatHandler(BaseHTTPRequestHandler):
    """An OpenAI-style chat endpoint for tests: silent, reads the last message's prompt,
    answers JSON; a test's handler decides the reply in `do_POST`."""

    def log_message(self, *args: object) -> None:
        pass

    def prompt(self) -> str:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        return body["messages"][-1]["content"]

    def send_json(self, status: int, payload: bytes, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)
