"""Bad input fails alone, with its reason in the summary and in the store, and the run goes on."""
from __future__ import annotations

import pytest
from pages import article_html, nested_tables_html, write_warc


def test_each_bad_page_fails_alone_with_its_reason(wirecrawl, tmp_path):
    good = article_html().encode()
    latin_labelled = article_html(title="Café owners rally — “again”").encode("utf-8")
    warc = write_warc(tmp_path / "mixed.warc.gz", [
        ("https://news.example/good", good, {"Content-Type": "text/html; charset=utf-8"}),
        ("https://news.example/report.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
         {"Content-Type": "text/html"}),
        ("https://news.example/wrong-charset", latin_labelled, {"Content-Type": "text/html; charset=iso-8859-1"}),
        ("https://news.example/empty", b"", {"Content-Type": "text/html"}),
        ("https://news.example/tables", nested_tables_html().encode(), {"Content-Type": "text/html"}),
        ("https://news.example/moved", b"", {"_status": "301 Moved Permanently", "Location": "/good"}),
    ])
    truncated = write_warc(tmp_path / "cut.warc", [
        ("https://news.example/before-the-cut", article_html(title="Storm closes schools").encode(), {"Content-Type": "text/html"}),
        ("https://news.example/cut", good, {"Content-Type": "text/html"}),
    ], with_requests=False)
    truncated.write_bytes(truncated.read_bytes()[:-800])

    proc = wirecrawl.reprocess(warc, truncated, settings={"EXTRACT_TIMEOUT": 3})

    out = proc.stdout
    assert "articles stored: 3 (new 3, updated 0, unchanged 0)" in out
    assert "not articles: 2 (empty_page 1, not_html 1)" in out
    assert "errors: 2 (bad_record 1, extract_timeout 1)" in out
    assert "records skipped: 7 (not_a_response_record 6, http_301 1)" in out
    rejects = {url: (kind, reason) for url, kind, reason in wirecrawl.query("SELECT fetched_url, kind, reason FROM rejects")}
    assert rejects == {
        "https://news.example/report.pdf": ("not_article", "not_html"),
        "https://news.example/empty": ("not_article", "empty_page"),
        "https://news.example/tables": ("error", "extract_timeout"),
        "https://news.example/cut": ("error", "bad_record"),
    }
    rows = {r["fetched_url"]: r for r in wirecrawl.export()}
    assert set(rows) == {"https://news.example/good", "https://news.example/wrong-charset", "https://news.example/before-the-cut"}
    assert rows["https://news.example/wrong-charset"]["title"] == "Café owners rally — “again”"
    assert rows["https://news.example/good"]["text"].startswith("WASHINGTON (AP) — The Senate voted")
    run = wirecrawl.query("SELECT status, counts FROM runs")
    assert run[0][0] == "finished" and '"extract_timeout": 1' in run[0][1]


def test_a_bom_wins_over_a_wrong_header(wirecrawl, tmp_path):
    body = "\ufeff".encode("utf-16-le") + article_html(title="Zürich cafés reopen").encode("utf-16-le")
    warc = write_warc(tmp_path / "bom.warc", [("https://news.example/bom", body, {"Content-Type": "text/html; charset=iso-8859-1"})])
    wirecrawl.reprocess(warc)
    assert [r["title"] for r in wirecrawl.export()] == ["Zürich cafés reopen"]


def test_nothing_to_process_exits_non_zero_with_a_reason(wirecrawl, tmp_path):
    proc = wirecrawl.run("reprocess", str(tmp_path / "missing"), "--store", wirecrawl.store, check=False)
    assert proc.returncode != 0
    assert proc.returncode == 2 and "no such file or directory" in proc.stderr
    (tmp_path / "empty").mkdir()
    proc = wirecrawl.run("reprocess", str(tmp_path / "empty"), "--store", wirecrawl.store, check=False)
    assert proc.returncode == 2 and "nothing to read" in proc.stderr
    (tmp_path / "notes.txt").write_text("not a page")
    proc = wirecrawl.run("reprocess", str(tmp_path / "notes.txt"), "--store", wirecrawl.store, check=False)
    assert proc.returncode == 2 and "not a WARC" in proc.stderr and "Traceback" not in proc.stderr


def test_inputs_that_cannot_be_read_are_skipped_with_a_reason_and_the_rest_is_processed(wirecrawl, tmp_path):
    """An unsupported file named beside good ones, a missing path, a symbolic link loop and a dangling link in a
    folder are each passed over with a reason and a count; the good pages are stored."""
    folder = tmp_path / "saved"
    folder.mkdir()
    (folder / "good.html").write_text(article_html())
    (folder / "a.html").symlink_to(folder / "b.html")
    (folder / "b.html").symlink_to(folder / "a.html")
    (folder / "gone.html").symlink_to(tmp_path / "nowhere.html")
    notes = tmp_path / "notes.txt"
    notes.write_text("not a page")
    proc = wirecrawl.run("reprocess", str(folder), str(notes), str(tmp_path / "missing.html"), "--store",
                         wirecrawl.store, "--workers", "1")
    assert "articles stored: 1 (new 1" in proc.stdout
    assert "inputs skipped: 5 (bad_symlink 3, no_such_file 1, unsupported_file 1)" in proc.stdout
    assert f"skipped {folder / 'a.html'}: symbolic link loop" in proc.stderr
    assert f"skipped {folder / 'gone.html'}: symbolic link to a missing file" in proc.stderr
    assert f"skipped {notes}: not a WARC" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert [r["fetched_url"] for r in wirecrawl.export()] == [(folder / "good.html").as_uri()]


def test_an_unreadable_folder_is_skipped_and_the_rest_is_read(tmp_path, monkeypatch):
    import os

    from pipelines import sources
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "hidden.html").write_text(article_html())
    (tmp_path / "open.html").write_text(article_html())
    (tmp_path / "locked").chmod(0)
    if os.geteuid() == 0:   # root reads a mode-000 folder: make scandir answer as it does for anyone else
        real = os.scandir

        def scandir(path):
            if str(path).endswith("locked"):
                raise PermissionError(13, "Permission denied", str(path))
            return real(path)
        monkeypatch.setattr(sources.os, "scandir", scandir)
    try:
        files, skipped = sources.expand([str(tmp_path)])
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert files == [tmp_path / "open.html"]
    assert [(s.fetched_url, s.reason, s.detail) for s in skipped] == [
        (str(tmp_path / "locked"), "unreadable_folder", "Permission denied")]


def test_a_file_name_that_is_not_utf8_is_stored_under_its_encoded_uri(wirecrawl, tmp_path):
    import os
    folder = tmp_path / "odd"
    folder.mkdir()
    with open(os.path.join(os.fsencode(folder), b"caf\xff\xfe.html"), "w") as f:
        f.write(article_html())
    proc = wirecrawl.reprocess(folder)
    assert "articles stored: 1 (new 1" in proc.stdout
    (row,) = wirecrawl.export()
    assert row["fetched_url"] == (folder / "caf").as_uri() + "%FF%FE.html"
    assert wirecrawl.query("SELECT archive_path FROM articles") == [(f"{folder}/caf\\xff\\xfe.html",)]
    again = wirecrawl.reprocess(folder)   # found again under the same URI: unchanged
    assert "(new 0, updated 0, unchanged 1)" in again.stdout


def test_an_unusable_store_exits_non_zero(wirecrawl, tmp_path):
    page = tmp_path / "a.html"
    page.write_text(article_html())
    (tmp_path / "not-a-db.sqlite").write_text("this is not a database")
    proc = wirecrawl.run("reprocess", str(page), "--store", f"sqlite:///{tmp_path / 'not-a-db.sqlite'}", check=False)
    assert proc.returncode != 0 and "cannot open store" in proc.stderr


def test_saved_html_files_fail_alone_too(wirecrawl, tmp_path):
    """Saved pages are read by the extraction workers: a file that cannot be read, or that times out, still
    fails alone with its reason; the good file is stored; a second run finds all three unchanged or retried."""
    folder = tmp_path / "saved"
    folder.mkdir()
    (folder / "good.html").write_text(article_html())
    (folder / "broken.html.gz").write_bytes(b"\x1f\x8b\x08\x00 this is not gzip data")
    (folder / "tables.html").write_text(nested_tables_html())

    proc = wirecrawl.reprocess(folder, settings={"EXTRACT_TIMEOUT": 3})
    assert "articles stored: 1 (new 1, updated 0, unchanged 0)" in proc.stdout
    assert "errors: 2 (extract_timeout 1, unreadable_file 1)" in proc.stdout
    rejects = {url.rsplit("/", 1)[1]: (kind, reason, sha) for url, kind, reason, sha in
               wirecrawl.query("SELECT fetched_url, kind, reason, body_sha1 FROM rejects")}
    assert {k: v[:2] for k, v in rejects.items()} == {"broken.html.gz": ("error", "unreadable_file"),
                                                      "tables.html": ("error", "extract_timeout")}
    assert rejects["tables.html"][2] is not None   # the timed-out file's bytes are known: not retried as new
    assert [r["fetched_url"].rsplit("/", 1)[1] for r in wirecrawl.export()] == ["good.html"]

    again = wirecrawl.reprocess(folder, settings={"EXTRACT_TIMEOUT": 3})
    assert "(new 0, updated 0, unchanged 2)" in again.stdout   # the good page and the timed-out one
    assert "errors: 1 (unreadable_file 1)" in again.stdout


@pytest.mark.parametrize("name", ["damaged.warc.gz", "damaged.warc"])
def test_a_damaged_record_in_the_middle_of_a_warc_loses_only_itself(wirecrawl, tmp_path, name):
    """Corrupt bytes inside the second of three responses (its gzip data, or its WARC header): that record is
    a bad_record error naming its offset, and the records after it are still read and stored."""
    records = [(f"https://news.example/{i}", article_html(title=f"Story number {i}").encode(), {"Content-Type": "text/html"})
               for i in range(3)]
    warc = write_warc(tmp_path / name, records, with_requests=False)
    data = bytearray(warc.read_bytes())
    magic = b"\x1f\x8b\x08" if name.endswith(".gz") else b"WARC/1.0"
    second = data.find(magic, 1)
    if name.endswith(".gz"):
        data[second + 100:second + 140] = b"X" * 40
    else:
        data[second:second + 8] = b"GARBAGE!"
    warc.write_bytes(bytes(data))

    proc = wirecrawl.reprocess(warc)
    assert "articles stored: 2 (new 2, updated 0, unchanged 0)" in proc.stdout
    assert "errors: 1 (bad_record 1)" in proc.stdout
    assert [r["fetched_url"] for r in wirecrawl.export()] == ["https://news.example/0", "https://news.example/2"]
    (url, detail), = wirecrawl.query("SELECT fetched_url, detail FROM rejects")
    third = data.find(magic, second + 1)
    assert url == f"warc:{warc.resolve()}#1" and f"reading resumes at byte {third}" in detail


@pytest.mark.parametrize("name", ["lying.warc.gz", "lying.warc"])
@pytest.mark.parametrize("length", [10 ** 12, 10 ** 9])
def test_a_record_whose_length_lies_upward_loses_only_itself(wirecrawl, tmp_path, name, length):
    """A flipped bit makes the second of four records claim 10^12 (or 10^9) bytes: it is one bad_record naming
    its offset, and the records after it are read and stored."""
    import gzip
    import re
    import zlib
    records = [(f"https://news.example/{i}", article_html(title=f"Story number {i}").encode(), {"Content-Type": "text/html"})
               for i in range(4)]
    warc = write_warc(tmp_path / name, records, with_requests=False)
    data = warc.read_bytes()
    if name.endswith(".gz"):
        members, pos = [], 0
        while pos < len(data):
            inflater = zlib.decompressobj(31)
            members.append(inflater.decompress(data[pos:]))
            pos = len(data) - len(inflater.unused_data)
        members[1] = re.sub(rb"Content-Length: \d+", b"Content-Length: %d" % length, members[1], count=1)
        offset = sum(len(gzip.compress(m)) for m in members[:1])
        data = b"".join(gzip.compress(m) for m in members)
    else:
        offset = data.find(b"WARC/1.0", 1)
        head_end = data.find(b"\r\n\r\n", offset)
        data = data[:offset] + re.sub(rb"Content-Length: \d+", b"Content-Length: %d" % length,
                                      data[offset:head_end], count=1) + data[head_end:]
    warc.write_bytes(data)

    proc = wirecrawl.reprocess(warc)
    assert "articles stored: 3 (new 3, updated 0, unchanged 0)" in proc.stdout
    assert "errors: 1 (bad_record 1)" in proc.stdout
    assert [r["fetched_url"] for r in wirecrawl.export()] == [f"https://news.example/{i}" for i in (0, 2, 3)]
    (url, offset_stored, detail), = wirecrawl.query("SELECT fetched_url, archive_offset, detail FROM rejects")
    assert url == "https://news.example/1" and offset_stored == offset and "reading resumes at byte" in detail
