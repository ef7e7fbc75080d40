-- wirecrawl store, schema version 7. Portable SQL (SQLite now, PostgreSQL later): no SQLite-only types.
CREATE TABLE IF NOT EXISTS store_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    command TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,            -- running | finished | failed | interrupted
    options TEXT NOT NULL,           -- JSON
    counts TEXT                      -- JSON
);

-- One row per fetched page that is an article. `id` is kept when the page is saved again, and given in order
-- of arrival, so the story tables, keyed by it, grow at their end (see signatures). Never given twice
-- (AUTOINCREMENT): a page gone since it was filed keeps its id in `unfiled` until it is.
CREATE TABLE IF NOT EXISTS articles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    fetched_url TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    canonical_url TEXT,
    title TEXT,
    authors TEXT NOT NULL,           -- JSON list
    published TEXT,
    modified TEXT,
    site_name TEXT,
    host TEXT,
    language TEXT,
    description TEXT,
    tags TEXT NOT NULL,              -- JSON list
    image TEXT,
    image_caption TEXT,
    image_credit TEXT,
    wire_source TEXT,
    standfirst TEXT,                 -- the dek: apart from the body
    summary TEXT NOT NULL DEFAULT '[]',  -- JSON list: the summary bullets
    credits TEXT NOT NULL DEFAULT '[]',  -- JSON list: [{"agency", "where"}], what credits a wire
    extracted_title TEXT,            -- the title as extracted, when the host's learned title parts were cut from it
    left_out TEXT NOT NULL,          -- JSON: the cleaned paragraphs `text` leaves out (steps/templates.body)
    text TEXT NOT NULL,              -- the body: the cleaned paragraphs less the host's template lines
    fetched_at TEXT NOT NULL,
    archive_path TEXT NOT NULL,      -- where the raw page lives, to reprocess it
    archive_offset INTEGER,          -- WARC record offset; NULL for a bare HTML file
    body_sha1 TEXT NOT NULL,
    extractor_version TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_host ON articles (host);
CREATE INDEX IF NOT EXISTS articles_url ON articles (url);

-- Pages that are not articles (kind = not_article) or failed (kind = error), with the reason.
CREATE TABLE IF NOT EXISTS rejects (
    fetched_url TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    fetched_at TEXT,
    archive_path TEXT NOT NULL,
    archive_offset INTEGER,
    body_sha1 TEXT,
    extractor_version TEXT NOT NULL
);

-- Each article's template candidates (the keys of its short lines, space-separated), per host, to learn
-- the host's template lines. `lead` identifies the story (its longest paragraph), so revisions of one
-- article count once. One row per article: a row per line, with its two indexes, cost the one writer
-- 25 index entries an article (a quarter of the store's size, a tenth of its CPU).
CREATE TABLE IF NOT EXISTS article_lines (
    fetched_url TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    lead TEXT NOT NULL,
    line_keys TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS article_lines_host ON article_lines (host);

-- The learned template lines of each host (learned from article_lines by steps.templates.HostTemplates).
CREATE TABLE IF NOT EXISTS host_templates (
    host TEXT NOT NULL,
    line_hash TEXT NOT NULL,
    PRIMARY KEY (host, line_hash)
);

-- Hosts whose article_lines changed since their templates were last learned (survives a killed run).
CREATE TABLE IF NOT EXISTS dirty_hosts (
    host TEXT PRIMARY KEY
);

-- Syndication detection (pipelines/stories). The parameters they were made with are in store_meta
-- under 'dedup_params'.
-- Their rows refer to articles by `articles.id`, not by URL: each URL key added dirties a page anywhere in
-- its index, an id given in order of arrival the last one. Filing as the main process does, into a store
-- holding 100,000 articles, went from 0.73-0.78 of the empty store's rate to 0.81-0.94 (bench/dedup_stage.py).
-- One fingerprint per article: `t` is its time for the window and the origin (published, else fetched_at,
-- in UTC), `minhash` its signature (uint32 x num_perm), `shingles` its sorted shingle hashes (uint32).
-- `id` is never reused (AUTOINCREMENT): the band index refers to signatures by id. `fetched_url` is the
-- article's, kept to name it (not indexed).
CREATE TABLE IF NOT EXISTS signatures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article INTEGER NOT NULL UNIQUE,
    fetched_url TEXT NOT NULL,
    t TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    n_shingles INTEGER NOT NULL,
    minhash BLOB NOT NULL,
    shingles BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS signatures_t ON signatures (t);

-- Signatures set aside by `reprocess --rebuild-stories` when no parameter a signature depends on changed:
-- an article re-filed with the text it had (`text_sha1`) takes its signature back instead of being
-- fingerprinted again. Each row goes when it is taken; the rest when the rebuild's filing is done.
CREATE TABLE IF NOT EXISTS kept_signatures (
    fetched_url TEXT PRIMARY KEY,
    text_sha1 TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    minhash BLOB NOT NULL,
    shingles BLOB NOT NULL
);

-- Verified near-duplicate pairs (a < b), only those that connect each story (filing.py); a story is a
-- connected component of this graph.
CREATE TABLE IF NOT EXISTS links (
    a INTEGER NOT NULL,
    b INTEGER NOT NULL,
    jaccard REAL NOT NULL,
    containment REAL NOT NULL,
    PRIMARY KEY (a, b)
);
CREATE INDEX IF NOT EXISTS links_b ON links (b);

-- A story is keyed by its origin's article id; `story_id` is the name users see (origin.story_id: made from
-- the origin's URL, so the same in every store that files the same pages).
CREATE TABLE IF NOT EXISTS stories (
    id INTEGER PRIMARY KEY,
    story_id TEXT NOT NULL,
    origin_url TEXT NOT NULL,
    reason TEXT NOT NULL,
    size INTEGER NOT NULL
);

-- `t` (the signature's) and `site` (the host less www., m., ...: origin.site_of) are kept here too, so
-- that filing finds a story's first members and its members on one site by index: a copy joining a story
-- of n members reads a few rows, not n.
CREATE TABLE IF NOT EXISTS story_members (
    article INTEGER PRIMARY KEY,
    story INTEGER NOT NULL,          -- stories.id
    relation TEXT NOT NULL,          -- origin | syndicated | revision | duplicate
    similarity REAL NOT NULL,        -- Jaccard similarity of the shingles to the origin's
    t TEXT NOT NULL,
    site TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS story_members_story_t ON story_members (story, t);
CREATE INDEX IF NOT EXISTS story_members_story_site ON story_members (story, site);

-- Articles whose text changed (or that stopped being articles) since they were last filed into a story;
-- written in the same transaction as the change, so a killed run files them on the next start. `article` is
-- the article's id, kept here too for one that is gone (its story rows still refer to it until it is filed).
-- Only the articles not filed yet: a small table, so its URL key costs little.
CREATE TABLE IF NOT EXISTS unfiled (
    fetched_url TEXT PRIMARY KEY,
    article INTEGER NOT NULL
);

-- Crawl state. `crawl_seen`: canonical keys of article URLs already fetched and stored (as an article or
-- a not-article), written in the page's own transaction. `fetch_state`: validators of feeds, sitemaps
-- and section pages for conditional requests.
CREATE TABLE IF NOT EXISTS crawl_seen (
    url_key TEXT PRIMARY KEY,
    fetched_url TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS fetch_state (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    fetched_at TEXT NOT NULL
);
