"""report.html: self-contained, opens in real headless Chromium without console errors, and
its charts carry data."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from report_fixture import build_output

from longweave.pipeline.report.build import build_report
from longweave.pipeline.report.svg import histogram, human

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0"]


@pytest.fixture(scope="module")
def html_path(tmp_path_factory) -> Path:
    out = build_output(tmp_path_factory.mktemp("out"))
    return Path(build_report(str(out))) / "report.html"


def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=90, check=False)


def test_page_is_self_contained(html_path):
    html = html_path.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<link" not in html and "<script" not in html and "@import" not in html
    # summary first, then one section per shard
    assert html.index("id='summary'") < html.index("id='ledger'") < html.index(
        'id="shard-8-shard-00000-arrow"') < html.index('id="shard-16-shard-00000-arrow"')
    for text in ("Rare-term re-mention distance", "Depth coverage", "Ledger waterfall",
                 "target vs actual", "token 5-gram shingles"):
        assert text in html


def test_charts_have_data_marks(html_path):
    html = html_path.read_text()
    marks = re.findall(r'<(rect|path) class="mark"', html)
    assert len(marks) > 100
    # the triangle draws one polygon path per source
    assert html.count('<path class="mark"') == 4


def test_empty_histogram_says_no_data():
    assert "no data" in histogram([], [], "nothing")
    assert 'class="mark"' in histogram([1, 2], [3, 0], "some")
    assert (human(1234567), human(0.5), human(12)) == ("1.23M", "0.5", "12")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed "
                    "(Debian: apt-get install -y chromium)")
def test_opens_in_headless_chromium_without_errors(html_path, tmp_path):
    url = html_path.resolve().as_uri()
    dumped = _chromium(["--dump-dom", url], tmp_path / "profile-dom")
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    console = [line for line in dumped.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []
    dom = dumped.stdout
    assert dom.count('class="mark"') > 100  # the browser parsed the inline SVG charts
    assert re.search(r'<rect class="mark"[^>]*height="[1-9]', dom)  # a non-empty bar
    shot = tmp_path / "report.png"
    taken = _chromium([f"--screenshot={shot}", "--window-size=1280,2400", url],
                      tmp_path / "profile-shot")
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert [line for line in taken.stderr.splitlines() if ":CONSOLE" in line] == []
    assert shot.exists() and shot.stat().st_size > 20_000
