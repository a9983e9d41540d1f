"""One small real pipeline run shared by the dataflow, remote and publish tests.

The run covers every stage: two stdlib packages read as repositories, the project's sample
notes, and two license texts carried with their license id (so publish has license fields
to aggregate). Nothing comes from installed packages, whose files differ between versions.

Every bucket gets rows on any machine because buckets go by length alone
(`bucket_policy: smallest`): each note is under 500 bytes, so under 500 tokens with the
byte-level BPE, and lands in 1024; the stdlib packages (tens of KB of code) are cut into
pieces far over 1024 tokens, which only 4096 holds. (`spread` draws among the buckets that
fit by a hash of the document id, which holds the input's path: whether any short
document drew 1024 changed from machine to machine.)
It runs once per pytest process, in-process, on the single-threaded DirectRunner.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parents[1]
_RUNS: dict[str, Path] = {}

MIT = """MIT License

Copyright (c) 2024 The Example Authors

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""

BSD_3_CLAUSE = """BSD 3-Clause License

Copyright (c) 2024, The Example Authors
All rights reserved.

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:

1. Redistributions of source code must retain the above copyright notice, this
   list of conditions and the following disclaimer.

2. Redistributions in binary form must reproduce the above copyright notice,
   this list of conditions and the following disclaimer in the documentation
   and/or other materials provided with the distribution.

3. Neither the name of the copyright holder nor the names of its
   contributors may be used to endorse or promote products derived from
   this software without specific prior written permission.

THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS"
AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE
IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE
DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE
FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL
DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR
SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER
CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY,
OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
"""

LICENSED_RECORDS = (
    {"id": "example-mit", "license": "MIT", "text": MIT},
    {"id": "example-bsd", "license": "BSD-3-Clause", "text": BSD_3_CLAUSE},
)


def tiny_recipe(folder: Path) -> Path:
    """Write the tiny recipe (and its licensed-texts input) into `folder`."""
    licensed = folder / "licensed.jsonl"
    licensed.write_text("".join(json.dumps(r) + "\n" for r in LICENSED_RECORDS),
                        encoding="utf-8")
    recipe = {
        "name": "tiny", "seed": 3,
        "sources": [
            {"name": "stdlib", "kind": "repo", "paths": ["${stdlib}"],
             "options": {"layout": "subdirs", "include": ["json", "wsgiref"]}},
            {"name": "notes", "kind": "text",
             "paths": [str(PROJECT / "recipes" / "samples" / "notes.jsonl")],
             "options": {"id_field": "id", "meta_fields": ["topic"]}},
            {"name": "licenses", "kind": "text", "paths": [str(licensed)],
             "options": {"id_field": "id", "meta_fields": ["license"]}},
        ],
        "filters": {"min_chars": 50},
        "tokenizer": {"train": {"vocab_size": 600, "sample_chars": 200_000}},
        "buckets": [1024, 4096],
        "bucket_policy": "smallest",
        "output": {"shard_tokens": 65536},
        "runner": {"runner": "DirectRunner", "direct_running_mode": "in_memory",
                   "direct_num_workers": 1},
    }
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump(recipe, sort_keys=False), encoding="utf-8")
    return path


def small_run(tmp_path_factory) -> tuple[Path, Path]:
    """(recipe path, work folder) of the shared run; runs the pipeline the first time."""
    if "workdir" not in _RUNS:
        from longweave.jobs.workflow import FAILURES, run_workflow

        base = tmp_path_factory.mktemp("longweave-small-run")
        recipe = tiny_recipe(base)
        workdir = base / "work"
        if not run_workflow(str(recipe), str(workdir), []):
            raise RuntimeError("small pipeline run failed: " + "; ".join(FAILURES))
        _RUNS["recipe"], _RUNS["workdir"] = recipe, workdir
    return _RUNS["recipe"], _RUNS["workdir"]
