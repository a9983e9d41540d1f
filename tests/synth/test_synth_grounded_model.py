"""The model-backed path of grounded families (a local fake server, never the network),
and no absolute local path in synthesized text (issue 14)."""

from __future__ import annotations

import json
import re
import sys
import threading
from http.server import ThreadingHTTPServer

import pytest
from grounded_fixture import STDLIB, stdlib_repo
from synth_fixture import ChatHandler, stdlib_documents

from longweave.schemas.document import Document
from longweave.schemas.ledger import Drop
from longweave.schemas.recipe_synth import SynthesizeConfig
from longweave.synth.build import synthesize_all


class RestateServer(ThreadingHTTPServer):
    """Answers restate prompts: faithfully (quoting the evidence) or not, per `faithful`."""

    daemon_threads = True

    def __init__(self, faithful: bool) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.faithful = faithful
        self.prompts: list[str] = []


class _Handler(ChatHandler):
    server: RestateServer

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        prompt = self.prompt()
        self.server.prompts.append(prompt)
        evidence = re.findall(r"- <<<(.*?)>>>", prompt, re.S)
        if self.server.faithful:
            answer = "In other words: " + " and ".join(f'"{e}"' for e in evidence)
        else:
            answer = "It is somewhere in the repository."
        reply = {"question": "Reworded: which file holds it?", "answer": answer}
        data = json.dumps({"choices": [{"message": {"content": json.dumps(reply)}}],
                           "usage": {"prompt_tokens": 10, "completion_tokens": 5}}).encode()
        self.send_json(200, data)


@pytest.fixture
def server(request):  # noqa: ANN001, ANN201 - pytest's request
    srv = RestateServer(request.param)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _config(url: str, families: dict[str, float]) -> SynthesizeConfig:
    return SynthesizeConfig.model_validate({
        "enabled": True,
        "paraphrase": {"enabled": True, "samples_per_bucket": 2, "families": families},
        "generator": {"backend": "openai", "base_url": url, "model": "fake", "max_retries": 0}})


@pytest.mark.parametrize("server", [True], indirect=True)
def test_model_answer_that_quotes_the_evidence_is_kept(server) -> None:
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    out = synthesize_all([stdlib_repo("email")], _config(url, {"code_definition": 1.0}), 2,
                         None, [32768])
    samples = [o for o in out if isinstance(o, Document)]
    assert samples and server.prompts
    for doc in samples:
        assert doc.meta["paraphrased"] is True and doc.meta["reference_answer"]
        answer = doc.text[doc.meta["messages"][1]["start"]:doc.meta["messages"][1]["end"]]
        assert answer.startswith("In other words:")
        for span in doc.meta["evidence_spans"]:
            assert doc.text[span["start"]:span["end"]] in answer
        assert "Reworded: which file holds it?" in doc.text


@pytest.mark.parametrize("server", [False], indirect=True)
def test_model_answer_without_the_evidence_is_a_drop(server) -> None:
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    out = synthesize_all([stdlib_repo("email")], _config(url, {"code_definition": 1.0}), 2,
                         None, [32768])
    assert out and all(isinstance(o, Drop) for o in out)
    assert {o.reason for o in out} == {"synth-failed:unsupported-answer"}


@pytest.mark.parametrize("server", [False], indirect=True)
def test_unrouted_family_keeps_the_offline_answer(server) -> None:
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    config = _config(url, {"code_import_target": 1.0})
    config.paraphrase.model_families = ["code_definition"]
    out = synthesize_all([stdlib_repo("email")], config, 2, None, [32768])
    assert out and all(isinstance(o, Document) and not o.meta["paraphrased"] for o in out)
    assert not server.prompts


def test_no_absolute_local_path_in_synthesized_text() -> None:
    """Rows named only by an absolute locator: stdlib repositories and untitled files."""
    rows = [stdlib_repo(name) for name in ("json", "email", "wsgiref", "tomllib")]
    files = [Document(d.id, d.source, d.kind, d.text, d.spans,
                      {"path": str(STDLIB / d.meta["title"])}) for d in stdlib_documents()]
    assert all(str(STDLIB) in r.meta["path"] for r in [*rows, *files])  # absolute locators
    mega = SynthesizeConfig.model_validate({
        "enabled": True, "megadocs": {"enabled": True, "questions": 3},
        "grouping": {"keyword_df_cap_floor": 4}})
    qa = SynthesizeConfig.model_validate({
        "enabled": True, "paraphrase": {"enabled": True, "samples_per_bucket": 6}})
    out = [o for o in [*synthesize_all(files, mega, 11, None, [4096, 8192]),
                       *synthesize_all([*rows, *files], qa, 11, None, [8192])]
           if isinstance(o, Document)]
    kinds = {o.kind for o in out}
    assert {"megadoc", "paraphrase_qa"} <= kinds, kinds
    local = {str(STDLIB), sys.prefix, sys.base_prefix}
    for doc in out:
        for path in local:
            assert path not in doc.text, f"{doc.kind} {doc.meta['method']} prints {path}"
        headings = re.findall(r"^(?:Document \d+: |\d+\. |=== Part \d+ of \d+: )(.*)$",
                              doc.text, re.M)
        assert headings and not [h for h in headings if h.startswith("/")], headings
