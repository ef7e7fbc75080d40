"""Scrapy settings for wirecrawl; every wirecrawl default lives here, alphabetised."""

BOT_NAME = "wirecrawl"
COMMANDS_MODULE = "crawler.commands"
SPIDER_MODULES: list[str] = []

# wirecrawl settings (read once, at the edge, by crawler/options.py)
# Syndication detection (pipelines/options.py DedupOptions explains each); changing any of them needs
# `scrapy reprocess --rebuild-stories`.
DEDUP_CONTAINMENT = 0.8
DEDUP_CONTAINMENT_MIN_JACCARD = 0.2
DEDUP_EXACT_MARGIN = 0.1
DEDUP_JACCARD = 0.3
DEDUP_LSH_BANDS = 64
DEDUP_LSH_ROWS = 2
DEDUP_MIN_SHARED = 8
DEDUP_NUM_PERM = 128
DEDUP_SEED = 1
DEDUP_SHINGLE_SIZE = 5
DEDUP_WINDOW_DAYS = 14
EXTRACT_FAVOR_PRECISION = True      # trafilatura precision mode (less chrome, slightly lower recall)
EXTRACT_INCLUDE_TABLES = True
EXTRACT_MIN_WORDS = 8               # a shorter body is stored as not_article/too_short
EXTRACT_TIMEOUT = 30.0              # seconds per page before its worker is killed (extract_timeout)
EXTRACT_WORKERS = 0                 # extraction processes; 0 means one per CPU
MAX_PAGE_BYTES = 20_000_000         # a larger page is stored as not_article/too_large
STORE_URI = "sqlite:///data/wirecrawl.sqlite"  # relative to the working directory
TEMPLATE_MIN_ARTICLES = 3           # a line in this many distinct articles of one host is template chrome

LOG_LEVEL = "INFO"
