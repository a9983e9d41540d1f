"""The OpenAI-compatible backend against a local server that misbehaves on purpose."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from http.server import ThreadingHTTPServer

import pytest
from synth_fixture import ChatHandler, stdlib_documents

from longweave.schemas.document import Document
from longweave.schemas.ledger import Drop
from longweave.schemas.recipe_synth import GeneratorConfig, SynthesizeConfig
from longweave.synth.build import synthesize_all
from longweave.synth.generators import GenerationError
from longweave.synth.generators.openai_http import OpenAIGenerator


class FaultyServer(ThreadingHTTPServer):
    """Replies per a script: `faults[marker]` lists what to do on successive requests."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.lock = threading.Lock()
        self.faults: dict[str, list[str]] = {}
        self.always: dict[str, str] = {}
        self.first_fault_every = 0  # >0: the first request of every n-th prompt gets a 429
        self.retry_after = "0"  # the Retry-After header of error replies
        self.seen: dict[str, int] = {}
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0

    def handle_error(self, request, client_address) -> None:  # noqa: ANN001 - quiet by design
        pass

    def next_fault(self, prompt: str) -> str:
        with self.lock:
            self.requests += 1
            self.seen[prompt] = self.seen.get(prompt, 0) + 1
            for marker, fault in self.always.items():
                if marker in prompt:
                    return fault
            for marker, queue in self.faults.items():
                if marker in prompt and queue:
                    return queue.pop(0)
            digest = int(hashlib.sha256(prompt.encode()).hexdigest(), 16)
            if self.first_fault_every and self.seen[prompt] == 1 and (
                    digest % self.first_fault_every == 0):
                return "429"
            return "ok"


class Handler(ChatHandler):
    server: FaultyServer

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        prompt = self.prompt()
        fault = self.server.next_fault(prompt)
        self._reply(fault, prompt)

    def _busy(self, seconds: float) -> None:
        """Count this request as in flight while the server "works" on it.

        The count drops before the reply is written: a client that has its answer may send
        its next request at once, and that must not look like one request too many.
        """
        with self.server.lock:
            self.server.in_flight += 1
            self.server.max_in_flight = max(self.server.max_in_flight, self.server.in_flight)
        try:
            time.sleep(seconds)
        finally:
            with self.server.lock:
                self.server.in_flight -= 1

    def _reply(self, fault: str, prompt: str) -> None:
        if fault == "drop":
            self.close_connection = True
            return
        if fault in ("slow", "busy"):
            self._busy(0.6 if fault == "slow" else 0.15)
        if fault.isdigit():
            self.send_json(int(fault), b'{"error": "try later"}',
                       {"Retry-After": self.server.retry_after})
            return
        if fault == "malformed":
            self.send_json(200, b'{"choices": [ {"message": ')
            return
        if "Reply with a JSON object only" in prompt:
            content = json.dumps({"question": "What does the passage describe?",
                                  "answer": "It describes the behaviour shown in the passage.",
                                  "paraphrase": "Put simply, the passage explains one step."})
        else:
            text = prompt.split("<<<\n", 1)[-1].rsplit("\n>>>", 1)[0]
            content = "In other words: " + " ".join(reversed(text.split()))
        reply = {"choices": [{"message": {"role": "assistant", "content": content}}],
                 "usage": {"prompt_tokens": len(prompt) // 4,
                           "completion_tokens": len(content) // 4}}
        self.send_json(200, json.dumps(reply).encode())



@pytest.fixture()
def server():
    srv = FaultyServer()
    # a short poll: `shutdown` waits for the loop to look again (0.5 s by default)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def generator_config(server: FaultyServer, **extra: object) -> GeneratorConfig:
    host, port = server.server_address
    base = {"backend": "openai", "base_url": f"http://{host}:{port}/v1", "model": "test-model",
            "timeout_s": 0.3, "max_retries": 3, "backoff_s": 0.01, "max_backoff_s": 0.05,
            "prompt_price_per_1k": 0.5, "completion_price_per_1k": 1.5}
    return GeneratorConfig.model_validate({**base, **extra})


@pytest.mark.parametrize("fault", ["slow", "429", "500", "malformed", "drop"])
def test_transient_faults_are_retried(server, fault) -> None:
    server.faults[f"[{fault}]"] = [fault]
    gen = OpenAIGenerator(generator_config(server))
    done = gen.chat(f"[{fault}] say something")
    assert done.text.startswith("In other words:")
    assert server.seen[f"[{fault}] say something"] == 2
    assert gen.total.requests == 1 and gen.total.prompt_tokens > 0 and gen.total.cost > 0


def test_persistent_failures_raise_with_their_kind(server) -> None:
    server.always["[down]"] = "503"
    server.always["[bad]"] = "400"
    gen = OpenAIGenerator(generator_config(server))
    with pytest.raises(GenerationError) as down:
        gen.chat("[down] hello")
    assert down.value.kind == "http-503" and server.seen["[down] hello"] == 4
    with pytest.raises(GenerationError) as bad:
        gen.chat("[bad] hello")
    assert bad.value.kind == "http-400" and server.seen["[bad] hello"] == 1  # not retried


@pytest.mark.parametrize("status, retry_after, retries, max_backoff, expected", [
    ("429", "5", 2, 30, [5, 5]),  # Retry-After honoured, once per retry, none after the last
    ("503", "0", 4, 5, [1, 2, 4, 5]),  # no Retry-After: backoff doubles up to its cap
    ("429", "3", 3, 30, [3, 3, 4]),  # never sooner than the server asks, nor than the backoff
])
def test_retry_sleeps(server, monkeypatch, status, retry_after, retries, max_backoff,
                      expected) -> None:
    """Measured sleeps (the sleep function is patched): how long, after which request, and
    whether the concurrency slot was free meanwhile (so other prompts can go out)."""
    server.always["[busy]"] = status
    server.retry_after = retry_after
    gen = OpenAIGenerator(generator_config(server, max_retries=retries, backoff_s=1.0,
                                           max_backoff_s=max_backoff, max_concurrency=1))
    sleeps = []

    def sleep(seconds: float) -> None:
        slot_free = gen._slots.acquire(blocking=False)
        if slot_free:
            gen._slots.release()
        sleeps.append((seconds, server.requests, slot_free))

    monkeypatch.setattr(time, "sleep", sleep)
    with pytest.raises(GenerationError) as failed:
        gen.chat("[busy] hello")
    assert failed.value.kind == f"http-{status}" and server.requests == retries + 1
    assert [s for s, _, _ in sleeps] == expected
    assert [n for _, n, _ in sleeps] == list(range(1, retries + 1))  # a sleep follows a request
    assert all(free for _, _, free in sleeps)


def test_cache_answers_repeats_without_a_request(server, tmp_path) -> None:
    config = generator_config(server, cache_dir=str(tmp_path / "cache"))
    first = OpenAIGenerator(config).chat("cache me")
    again = OpenAIGenerator(config)
    second = again.chat("cache me")
    assert second.text == first.text and server.requests == 1
    assert again.total.cached == 1 and again.total.requests == 0


def test_concurrency_is_bounded(server) -> None:
    server.always["[busy]"] = "busy"
    gen = OpenAIGenerator(generator_config(server, max_concurrency=2))
    done = gen.chat_many([f"[busy] item {i}" for i in range(6)])
    assert len(done) == 6 and server.max_in_flight <= 2 and server.requests == 6


def test_job_goes_on_and_failures_become_drops(server) -> None:
    docs = stdlib_documents(("json/__init__.py", "csv.py", "textwrap.py", "string.py"))
    poisoned = Document("poisoned", "stdlib", "text", "FAILME\n" + docs[1].text,
                        meta={"title": "csv.py (poisoned)"})
    server.always["FAILME"] = "503"
    server.first_fault_every = 3
    config = SynthesizeConfig.model_validate({
        "enabled": True, "generator": generator_config(server).model_dump(),
        "megadocs": {"enabled": True, "mode": "stitch", "stitch_rephrasings": 2,
                     "questions": 2},
        "paraphrase": {"enabled": True, "samples_per_bucket": 2, "answer": "paraphrase"}})
    out = synthesize_all([*docs, poisoned], config, 4, None, [2048])
    drops = [o for o in out if isinstance(o, Drop)]
    made = [o for o in out if isinstance(o, Document)]
    assert [d.reason for d in drops] == ["synth-failed:http-503"]
    stitched = [d for d in made if d.kind == "megadoc"]
    assert len(stitched) == len(docs)
    for doc in stitched:
        assert len(doc.meta["parts"]) == 3 and doc.meta["paraphrased"] is True
        assert doc.meta["usage"]["requests"] + doc.meta["usage"]["cached"] >= 2
        assert "In other words:" in doc.text
    qa = [d for d in made if d.kind == "paraphrase_qa"]
    assert len(qa) == 2
    for doc in qa:
        assert doc.meta["paraphrased"] is True and doc.meta["usage"]["cost"] > 0
        assistant = doc.meta["messages"][1]
        assert "Put simply" in doc.text[assistant["start"]:assistant["end"]]
