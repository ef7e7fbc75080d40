"""Story quality on the labelled syndication set, through `scrapy reprocess` + `scrapy export`:
pairwise precision / recall / F1 and adjusted Rand index against the labels, origins and relations
right, beside the three peer configurations of ../shared/bench/README.md measured in the same run
(trafilatura text, datasketch MinHash LSH, connected components).

    python bench/syndication_stories.py [../shared/bench]
"""
from __future__ import annotations

import json
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

import trafilatura
from datasketch import MinHash, MinHashLSH
from fastwarc.warc import ArchiveIterator, WarcRecordType

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import export_rows, run_reprocess  # noqa: E402
from pipelines.stories.evaluate import pairwise  # noqa: E402

PEERS = {  # name: (word n-gram, num_perm, LSH threshold or (bands, rows))
    "datasketch 5-grams, 128 perms, threshold 0.5": (5, 128, 0.5),
    "text-dedup NEWS-COPY (256 perms, 2-grams, 0.45)": (2, 256, 0.45),
    "datatrove defaults (5-grams, 14 bands x 8 rows)": (5, 112, (14, 8)),
}


def peer_clusters(texts: dict[str, str], ngram: int, num_perm: int, lsh_param) -> dict[str, str]:
    lsh = (MinHashLSH(num_perm=num_perm, params=lsh_param) if isinstance(lsh_param, tuple)
           else MinHashLSH(threshold=lsh_param, num_perm=num_perm))
    sigs = {}
    for url, text in texts.items():
        words = re.findall(r"\w+", text.lower())
        grams = {" ".join(words[i:i + ngram]).encode() for i in range(max(1, len(words) - ngram + 1))}
        m = MinHash(num_perm=num_perm)
        m.update_batch(list(grams))
        sigs[url] = m
        lsh.insert(url, m)
    parent = {u: u for u in texts}

    def find(u):
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u
    for url, m in sigs.items():
        for other in lsh.query(m):
            parent[find(url)] = find(other)
    return {u: find(u) for u in texts}


def main() -> None:
    data = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "bench")
    labels = json.loads((data / "syndication-dev.labels.json").read_text())
    truth = {u: v["story"] for u, v in labels.items()}
    with tempfile.TemporaryDirectory() as tmp:
        seconds = run_reprocess([str(data / "syndication-dev.warc.gz")], Path(tmp) / "s.sqlite", 2)
        rows = {r["fetched_url"]: r for r in export_rows(Path(tmp) / "s.sqlite")}
    missing = sorted(set(truth) - set(rows))
    predicted = {u: (rows[u]["story_id"] if u in rows else f"missing:{u}") for u in truth}
    ours = pairwise(truth, predicted)

    origins = {u for u, v in labels.items() if v["relation"] == "origin"}
    origin_right = sum(1 for u in origins if u in rows and rows[u]["relation"] == "origin"
                       and sum(1 for o in origins if predicted[o] == predicted[u]) == 1)
    relation_right = sum(1 for u, v in labels.items() if u in rows and rows[u]["relation"] == v["relation"])
    confusion = Counter((v["relation"], rows[u]["relation"] if u in rows else "missing") for u, v in labels.items())

    print(f"{len(labels)} pages, {len(set(truth.values()))} labelled stories; reprocess took {seconds:.1f} s; "
          f"{len(missing)} pages not stored")
    print(f"{'configuration':52s} {'precision':>9s} {'recall':>7s} {'F1':>6s} {'ARI':>6s}")
    print(f"{'wirecrawl (reprocess + export)':52s} {ours['precision']:9.4f} {ours['recall']:7.4f} {ours['f1']:6.4f} {ours['ari']:6.4f}")
    texts = {}
    for rec in ArchiveIterator(open(data / "syndication-dev.warc.gz", "rb"), record_types=WarcRecordType.response):
        url = rec.headers.get("WARC-Target-URI")
        body = rec.reader.read()
        texts[url] = trafilatura.extract(body.split(b"\r\n\r\n", 1)[1] if body.startswith(b"HTTP/") else body) or ""
    for name, (ngram, perms, param) in PEERS.items():
        s = pairwise(truth, peer_clusters({u: texts.get(u, "") for u in truth}, ngram, perms, param))
        print(f"{name:52s} {s['precision']:9.4f} {s['recall']:7.4f} {s['f1']:6.4f} {s['ari']:6.4f}")
    print(f"origins right: {origin_right} / {len(origins)} (target: all)")
    print(f"relations right: {relation_right} / {len(labels)}; label -> ours: "
          + ", ".join(f"{a}->{b} {n}" for (a, b), n in sorted(confusion.items())))
    print("targets: F1 >= 0.99 with precision >= 0.995")


if __name__ == "__main__":
    main()
