"""An OpenAI-compatible chat-completions client (vLLM, TGI, SGLang or a hosted API).

urllib for transport; tenacity schedules the retries. Bounded concurrency per generator, a
timeout per request, retries on 429, 5xx, dropped connections and malformed replies
(exponential backoff, never sooner than the server's Retry-After, no sleep after the last
attempt, no concurrency slot held while sleeping), an on-disk cache keyed by the request's
hash, and token / cost accounting. Anything that still fails raises `GenerationError`;
callers turn that into a Drop, never into a half-made sample.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import tenacity

from longweave.schemas.recipe_synth import GeneratorConfig
from longweave.synth.generators.base import GenerationError, Generator, QuestionAnswer, Usage

SYSTEM_PROMPT = "You help build reading-comprehension training data. Follow the format exactly."

QUESTION_PROMPT = """Passage from the document "{title}":
<<<
{passage}
>>>
Write one question that only this passage answers, its short answer, and a faithful
paraphrase of the passage in your own words. Reply with a JSON object only:
{{"question": "...", "answer": "...", "paraphrase": "..."}}"""

RESTATE_PROMPT = """A question about a long context, with a reference answer that is known to
be right and the evidence passages it rests on.
Question: {question}
Reference answer:
<<<
{reference}
>>>
Rewrite the question in different words, and write an answer in your own words that keeps
every fact of the reference and quotes each evidence passage below verbatim, in double
quotes:
{evidence}
Reply with a JSON object only: {{"question": "...", "answer": "..."}}"""

REWRITE_PROMPT = """{instruction}
Reply with the requested text only.
<<<
{text}
>>>"""

RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


@dataclass
class Completion:
    text: str
    usage: Usage


class OpenAIGenerator(Generator):
    """Chat completions over HTTP; `describe()` names the model for meta."""

    paraphrases = True

    def __init__(self, config: GeneratorConfig) -> None:
        self.config = config
        self.name = f"openai:{config.model}"
        self.total = Usage()
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(config.max_concurrency)

    def __getstate__(self) -> dict:
        return {"config": self.config, "name": self.name, "total": Usage()}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["config"])

    def describe(self) -> dict[str, object]:
        return {"name": self.name, "paraphrases": True, "base_url": self.config.base_url}

    # -- high level -------------------------------------------------------------------------
    def question(self, passage: str, title: str, key: str) -> QuestionAnswer:
        done = self.chat(QUESTION_PROMPT.format(title=title, passage=passage))
        data = parse_json_object(done.text)
        fields = [data.get(k) for k in ("question", "answer", "paraphrase")]
        if not all(isinstance(f, str) and f.strip() for f in fields):
            raise GenerationError("bad-output", "reply lacks question/answer/paraphrase")
        question, answer, paraphrase = (f.strip() for f in fields)
        return QuestionAnswer(question, answer, paraphrase, None, done.usage)

    def restate(self, question: str, reference: str, evidence: list[str], key: str
                ) -> QuestionAnswer:
        listed = "\n".join(f"- <<<{e}>>>" for e in evidence)
        done = self.chat(RESTATE_PROMPT.format(question=question, reference=reference,
                                               evidence=listed))
        data = parse_json_object(done.text)
        fields = [data.get(k) for k in ("question", "answer")]
        if not all(isinstance(f, str) and f.strip() for f in fields):
            raise GenerationError("bad-output", "reply lacks question/answer")
        return QuestionAnswer(fields[0].strip(), fields[1].strip(), None, None, done.usage)

    def rewrite(self, texts: list[str], instruction: str, key: str) -> tuple[list[str], Usage]:
        prompts = [REWRITE_PROMPT.format(instruction=instruction, text=t) for t in texts]
        done = self.chat_many(prompts)
        usage = Usage()
        for item in done:
            usage.add(item.usage)
            if not item.text.strip():
                raise GenerationError("bad-output", "empty rewrite")
        return [item.text.strip() for item in done], usage

    # -- transport --------------------------------------------------------------------------
    def chat_many(self, prompts: list[str]) -> list[Completion]:
        """All prompts at once, at most `max_concurrency` in flight; any failure fails all."""
        if len(prompts) <= 1:
            return [self.chat(p) for p in prompts]
        with ThreadPoolExecutor(max_workers=min(len(prompts), self.config.max_concurrency)) as pool:
            futures = [pool.submit(self.chat, p) for p in prompts]
            return [f.result() for f in futures]

    def request_body(self, prompt: str) -> dict:
        return {"model": self.config.model, "temperature": self.config.temperature,
                "max_tokens": self.config.max_tokens,
                "messages": [{"role": "system", "content": SYSTEM_PROMPT},
                             {"role": "user", "content": prompt}]}

    def chat(self, prompt: str) -> Completion:
        body = self.request_body(prompt)
        key = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        cached = self._cache_get(key)
        if cached is not None:
            usage = Usage(cached=1)
            self._account(usage)
            return Completion(cached, usage)
        text, usage = self._post_with_retries(body)
        self._cache_put(key, text)
        self._account(usage)
        return Completion(text, usage)

    def _account(self, usage: Usage) -> None:
        with self._lock:
            self.total.add(usage)

    def _post_with_retries(self, body: dict) -> tuple[str, Usage]:
        """Up to `max_retries` more attempts; the last failure is raised as it is."""
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.config.max_retries + 1),
            wait=self._wait, retry=tenacity.retry_if_exception_type(_Retryable), reraise=True)
        return retrying(self._post_in_slot, body)

    def _wait(self, state: tenacity.RetryCallState) -> float:
        """Exponential backoff, or the server's Retry-After if longer; both capped."""
        backoff = self.config.backoff_s * 2 ** (state.attempt_number - 1)
        asked = state.outcome.exception().retry_after or 0  # only _Retryable is retried
        return min(self.config.max_backoff_s, max(backoff, asked))

    def _post_in_slot(self, body: dict) -> tuple[str, Usage]:
        """One attempt; the slot is held only while it is in flight, never while waiting."""
        with self._slots:
            return self._post_once(body)

    def _post_once(self, body: dict) -> tuple[str, Usage]:
        config = self.config
        url = config.base_url.rstrip("/") + "/chat/completions"
        headers = {"Content-Type": "application/json"}
        api_key = os.environ.get(config.api_key_env) if config.api_key_env else None
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers,
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=config.timeout_s) as reply:
                raw = reply.read()
        except urllib.error.HTTPError as error:
            if error.code in RETRYABLE_STATUS:
                raise _Retryable(f"http-{error.code}", str(error),
                                 _retry_after(error.headers.get("Retry-After"))) from None
            raise GenerationError(f"http-{error.code}", str(error)) from None
        except (TimeoutError, http.client.HTTPException, ConnectionError) as error:
            raise _Retryable(_transport_kind(error), repr(error)) from None
        except urllib.error.URLError as error:
            raise _Retryable(_transport_kind(error.reason), repr(error)) from None
        try:
            data = json.loads(raw)
            text = data["choices"][0]["message"]["content"]
            if not isinstance(text, str):
                raise TypeError("content is not a string")
        except (ValueError, KeyError, IndexError, TypeError) as error:
            raise _Retryable("malformed-response", repr(error)) from None
        reported = data.get("usage") or {}
        usage = Usage(requests=1, prompt_tokens=int(reported.get("prompt_tokens") or 0),
                      completion_tokens=int(reported.get("completion_tokens") or 0))
        usage.cost = (usage.prompt_tokens * config.prompt_price_per_1k
                      + usage.completion_tokens * config.completion_price_per_1k) / 1000
        return text, usage

    # -- cache ------------------------------------------------------------------------------
    def _cache_path(self, key: str) -> str | None:
        if not self.config.cache_dir:
            return None
        return os.path.join(self.config.cache_dir, key[:2], f"{key}.json")

    def _cache_get(self, key: str) -> str | None:
        path = self._cache_path(key)
        if path is None or not os.path.exists(path):
            return None
        try:
            with open(path, encoding="utf-8") as handle:
                return json.load(handle)["text"]
        except (OSError, ValueError, KeyError):
            return None  # a torn or foreign cache file is a miss, not a failure

    def _cache_put(self, key: str, text: str) -> None:
        path = self._cache_path(key)
        if path is None:
            return
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump({"text": text}, handle)
        os.replace(tmp, path)  # atomic: concurrent writers never leave half a file


class _Retryable(GenerationError):
    """A failure worth another attempt; raised as it is once the attempts run out."""

    def __init__(self, kind: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(kind, message)
        self.retry_after = retry_after


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _transport_kind(error: object) -> str:
    if isinstance(error, TimeoutError):
        return "timeout"
    return "connection"


def parse_json_object(text: str) -> dict:
    """The first-to-last brace span of a reply as a JSON object (models wrap JSON in prose)."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise GenerationError("bad-output", "reply holds no JSON object")
    try:
        data = json.loads(text[start:end + 1])
    except ValueError as error:
        raise GenerationError("bad-output", f"reply JSON: {error}") from None
    if not isinstance(data, dict):
        raise GenerationError("bad-output", "reply JSON is not an object")
    return data
