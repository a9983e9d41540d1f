"""report.html: self-contained, opens in real headless Chromium without console errors, its
charts carry data, and values from the data are escaped."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from report_fixture import build_output

from longweave.pipeline.report.build import build_report
from longweave.pipeline.report.html import render_report
from longweave.pipeline.report.svg import histogram, human
from longweave.schemas.layout import SUMMARY_FILE

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
    assert html.index('id="summary"') < html.index('id="ledger"') < html.index(
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


# Names from the data made hostile: a source, a shard path (it lands in id and href
# attributes), a drop reason, a quality signal (a meta key) and the recipe name.
HOSTILE = {
    "books": '<script>alert("books")</script>',
    "8/shard-00000.arrow": "8/'\"><script>alert(1)</script>.arrow",
    "quarantined:UnicodeDecodeError": "quarantined:<img src=x onerror=alert(1)>",
    "alpha": "<b>alpha</b>",
    "tiny": "</title><script>alert(2)</script>",
}


def _rename(value: Any) -> Any:
    """`value` with every key or string in HOSTILE replaced by its hostile twin."""
    if isinstance(value, dict):
        return {HOSTILE.get(k, k): _rename(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename(v) for v in value]
    return HOSTILE.get(value, value) if isinstance(value, str) else value


class _Page(HTMLParser):
    """The element names and the text a reader sees, as a browser would parse them."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attrs: list[str] = []
        self.text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attrs.extend(f"{k}={v}" for k, v in attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_values_from_the_data_are_escaped(html_path):
    report = html_path.parent
    summary = json.loads((report / SUMMARY_FILE).read_text())
    shards = [json.loads((report / s["report"]).read_text()) for s in summary["shards"]]
    html = render_report(_rename(summary), [_rename(s) for s in shards])
    assert "<script" not in html and "<img" not in html and "<b>alpha" not in html
    page = _Page(html)
    assert not page.tags & {"script", "img"}
    assert not any(a.startswith("onerror") for a in page.attrs)
    text = "".join(page.text)
    for name in HOSTILE.values():  # shown to the reader as written, in tables and charts
        assert name in text, name
    assert text.count(HOSTILE["books"]) > 5


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
