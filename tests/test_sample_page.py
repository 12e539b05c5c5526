"""The HTML sample page: built for a tiny manifest, rendered by headless Chromium, links checked."""
from __future__ import annotations

import html.parser
import os
import shutil
import subprocess
from urllib.parse import unquote

import pytest

from evaluate_corpus import make_conversions, make_corpus
from vc.evaluate.page import build_sample_page
from vc.evaluate.pipeline import evaluate_manifests
from vc.features import FeatureConfig

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
TIBETAN = "\u0f56\u0f40\u0fb2\u0f0b\u0f64\u0f72\u0f66\u0f0b\u0f56\u0f51\u0f7a\u0f0b\u0f63\u0f7a\u0f42\u0f66\u0f0d"
UTT_FMT = "{spk}_{sent}<i>&\"'"  # ids may hold any character but whitespace and '/'


class Links(html.parser.HTMLParser):
    """Collects src/href attributes and sample rows of the page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.rows: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.links += [a[k] for k in ("src", "href") if k in a]
        if tag == "tr" and a.get("class") == "sample":
            self.rows.append(a)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    root = tmp_path_factory.mktemp("page")
    ref = make_corpus(root, utt_fmt=UTT_FMT, texts={"s01": TIBETAN, "s02": "<b>bold & \"quoted\"</b>"})
    good = make_conversions(root, "good", utt_fmt=UTT_FMT)
    bad = make_conversions(root, "bad", quality=0.2, seed=3, utt_fmt=UTT_FMT)
    result = evaluate_manifests({"good": good, "bad": bad}, ref, features=FeatureConfig(), speaker_encoder="mfcc",
                                progress=False)
    out = root / "site"
    index = build_sample_page(out, result, max_rows_per_pair=2, progress=False)
    return index, result


def test_page_is_self_contained_and_escaped(page):
    index, result = page
    text = index.read_text(encoding="utf-8")
    assert '<meta charset="utf-8">' in text
    assert TIBETAN in text  # UTF-8, not mangled
    assert "<b>bold" not in text and "&lt;b&gt;bold &amp; &quot;quoted&quot;&lt;/b&gt;" in text
    assert "<i>" not in text and "spkA_s01&lt;i&gt;&amp;&quot;&#x27;" in text
    parser = Links()
    parser.feed(text)
    assert len(parser.rows) == 4  # two pairs, two utterances each
    assert parser.links, "no media on the page"
    for link in parser.links:
        assert not link.startswith(("http:", "https:", "//", "/")), link  # nothing external or absolute
        assert (index.parent / unquote(link)).is_file(), link
    wavs = [link for link in parser.links if link.endswith(".wav")]
    pngs = [link for link in parser.links if link.endswith(".png")]
    assert len(set(wavs)) == len(set(pngs)) == 12  # 4 sources/references (shared) + 2 x 4 conversions
    assert len(wavs) == 4 * 4  # source, reference, good, bad per row


def test_rebuild_reuses_assets(page):
    index, result = page
    assets = sorted(p for p in index.parent.rglob("*") if p.is_file() and p.name != "index.html")
    stamps = [p.stat().st_mtime_ns for p in assets]
    build_sample_page(index.parent, result, max_rows_per_pair=2, progress=False)
    assert [p.stat().st_mtime_ns for p in assets] == stamps
    assert not [p for p in index.parent.rglob(".*tmp*")]  # no temp files left behind


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_page_renders_in_headless_chromium(page, tmp_path):
    index, _ = page
    shot = tmp_path / "page.png"
    base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,1000"]
    dom = subprocess.run([*base, "--dump-dom", index.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    parser = Links()
    parser.feed(dom.stdout)
    assert [r["data-pair"] for r in parser.rows] == ["spkA-spkB"] * 2 + ["spkB-spkA"] * 2
    assert dom.stdout.count("<audio") == 16 and dom.stdout.count("<img") == 16
    assert TIBETAN in dom.stdout  # decoded as UTF-8 by the browser
    subprocess.run([*base, f"--screenshot={shot}", index.as_uri()], capture_output=True, timeout=120, check=True)
    assert shot.is_file() and shot.stat().st_size > 10_000
    keep = os.environ.get("VC_KEEP_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)
