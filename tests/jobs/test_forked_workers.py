"""Forked SDK workers: a multi_processing job's workers are children of the fork server
(not fresh Pythons), compute what Beam's own workers compute, and the switch turns it off."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"),
                                 reason="forked workers are Linux only")]

SCRIPT = textwrap.dedent("""
    import json, os, sys
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions
    from longweave.jobs import forked_workers

    # what the server computes once, every forked worker has (json: any module they share)
    server = forked_workers.start(preload=[lambda: setattr(json, "loaded_in", os.getpid())])
    options = PipelineOptions(["--runner=DirectRunner", "--direct_num_workers=2",
                               "--direct_running_mode=multi_processing"])
    runner = forked_workers.runner_for(options, warm=["xml.dom.minidom"])
    with beam.Pipeline(runner=runner, options=options) as pipeline:
        (pipeline | beam.Create(range(400)) | beam.Reshuffle()
         | beam.Map(lambda x: json.dumps([x * x, os.getpid(), os.getppid(),
                                          getattr(json, "loaded_in", None),
                                          "xml.dom.minidom" in sys.modules]))
         | beam.io.WriteToText(sys.argv[1], shard_name_template=""))
    print(json.dumps({"server": server.pid if server else None,
                      "socket": server.socket_path if server else None,
                      "forked": runner is not None, "driver": os.getpid()}))
""")


def run_job(tmp_path, enabled: bool) -> tuple[dict, list[list[int]]]:
    out = tmp_path / ("on.txt" if enabled else "off.txt")
    env = {**os.environ, "LONGWEAVE_FORKED_WORKERS": "1" if enabled else "0"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(out)], env=env,
                          capture_output=True, text=True, timeout=300, check=True)
    info = json.loads(done.stdout.strip().splitlines()[-1])
    return info, [json.loads(line) for line in out.read_text().splitlines()]


def test_workers_are_forked_from_the_server_and_give_beams_results(tmp_path):
    info, rows = run_job(tmp_path, enabled=True)
    assert info["forked"] and info["server"]
    assert sorted(row[0] for row in rows) == [x * x for x in range(400)]
    assert {row[2] for row in rows} == {info["server"]}  # every element ran in a fork
    assert info["driver"] not in {row[1] for row in rows}  # and not in the driver
    assert {row[3] for row in rows} == {info["server"]}  # preloaded in the server
    assert {row[4] for row in rows} == {True}  # the job's module, warmed before its workers
    assert not os.path.exists(os.path.dirname(info["socket"]))  # stopped at exit, cleaned
    with pytest.raises(ProcessLookupError):  # and reaped (its workers' CPU is the caller's)
        os.kill(info["server"], 0)

    off, rows_off = run_job(tmp_path, enabled=False)
    assert not off["forked"] and off["server"] is None
    assert {r[3] for r in rows_off} == {None}
    assert {r[4] for r in rows_off} == {False}  # Beam's own workers import what they use
    assert sorted(r[0] for r in rows_off) == sorted(r[0] for r in rows)
