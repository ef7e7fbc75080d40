"""The extraction workers start from the fork server ready to extract, without running the parent's main
module first (under `scrapy reprocess` that is Scrapy: 0.2 s of CPU per worker); no process starts BLAS
threads; a worker hands over each article with its fingerprint made."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from conftest import ROOT
from pages import article_html
from pipelines.model import Page, RawRef
from pipelines.options import DedupOptions, ExtractOptions
from pipelines.stories.fingerprint import Signer
from pipelines.workers import _process

SCRIPT = """
import sys
sys.path[:0] = [{root!r}, {tests!r}]
import scrapy.cmdline  # a parent that has Scrapy, as under `scrapy reprocess`
import worker_probe
from pipelines.options import ExtractOptions
from pipelines.workers import ExtractionPool

if __name__ == "__main__":
    with ExtractionPool(1, 30, ExtractOptions()) as pool:
        print(pool.run(worker_probe.imported))
"""


def test_a_worker_does_not_run_the_parents_main_module(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(SCRIPT.format(root=str(ROOT), tests=str(Path(__file__).parent)))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "(None, False)"


def test_numpy_starts_no_blas_threads_in_our_processes():
    """wirecrawl does no linear algebra: importing it (and numpy with it) must not start OpenBLAS's threads,
    which spin for a while and take a core from the extraction workers."""
    code = f"import sys; sys.path.insert(0, {str(ROOT)!r}); import pipelines.stories.fingerprint, os; " \
           "print(len(os.listdir('/proc/self/task')))"
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"


def test_a_worker_hands_over_its_articles_signed():
    """A worker fingerprints each article's lines while it has their words, so the main process need not."""
    page = Page("https://x.example/a", article_html().encode(), "text/html", "2025-03-01T00:00:00+00:00", RawRef("x"))
    article = _process(page, ExtractOptions(), DedupOptions())
    whole = article.line_words.whole
    reference = Signer(DedupOptions()).fingerprint("\n".join(article.lines))
    assert np.array_equal(whole.minhash, reference.minhash) and np.array_equal(whole.shingles, reference.shingles)
    assert whole.text_hash == reference.text_hash
