"""Scrapy settings for wirecrawl; every wirecrawl default lives here, alphabetised."""

BOT_NAME = "wirecrawl"
COMMANDS_MODULE = "crawler.commands"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

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
EXTRACT_FAST = True                 # False: trafilatura's full comparison on every page (about 1.5x the CPU)
EXTRACT_STEPS_OFF = []              # for measuring only: steps switched off (pipelines.options.STEPS)
EXTRACT_MIN_WORDS = 8               # a shorter body is stored as not_article/too_short
EXTRACT_TIMEOUT = 30.0              # seconds per page before its worker is killed (extract_timeout)
EXTRACT_WORKERS = 0                 # extraction processes; 0 means one per CPU
MAX_PAGE_BYTES = 20_000_000         # a larger page is stored as not_article/too_large
STORE_URI = "sqlite:///data/wirecrawl.sqlite"  # relative to the working directory
FLEET_CLAIM_SECONDS = 30.0   # a fleet worker's hold on an input file, an outlet, a host, an article URL,
                             # renewed while it lives
FLEET_OUTLETS = 0            # outlets a crawl worker leases at a time; 0: CONCURRENT_REQUESTS / _PER_DOMAIN
FLEET_REDIS = ""             # redis://HOST:PORT/DB: `scrapy crawl` as a worker of that fleet (its filer stores)
TEMPLATE_MIN_ARTICLES = 3           # a line in this many distinct articles of one host is template chrome

LOG_LEVEL = "WARNING"   # progress and the summary are printed anyway; -L INFO shows Scrapy's own log

# The crawl (`scrapy crawl news`): its own settings, then Scrapy's, set for a polite, safe news crawler.
ARCHIVE_DIR = "data/archive"        # rotating WARC files of every response (relative to the working directory)
ARCHIVE_MAX_BYTES = 1_000_000_000   # start a new WARC file past this size
CONTACT = ""   # your e-mail or page: it goes in the User-Agent (a crawl without it warns at start)
RETRY_AFTER_MAX = 300.0             # longest Retry-After honoured, in seconds
SITEMAP_MAX_DEPTH = 3               # sitemap index levels followed
SOURCES = "seeds/sources.toml"      # the outlet list (or -a sources=PATH)

AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
CONCURRENT_ITEMS = 4                # Scrapy starts this many tasks for each response's output (default 100,
                                    # ~5 % of the crawl's main-process time); an article page yields one item
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
COOKIES_ENABLED = False             # no cookies at all: nothing can follow a redirect to another host
DOWNLOAD_DELAY = 0.5
DOWNLOAD_HANDLERS = {"file": None, "data": None, "ftp": None, "s3": None}
DOWNLOAD_MAXSIZE = 20_000_000       # also bounds decompressed size (compression bombs)
DOWNLOAD_WARNSIZE = 5_000_000
DOWNLOAD_TIMEOUT = 30
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": None,  # off anyway (COOKIES_ENABLED): not even imported
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.middlewares.HeadMetaRefreshMiddleware": 579,  # as Scrapy's (580), after the archive sees the page
    "crawler.middlewares.StrictRobotsTxtMiddleware": 100,
    "crawler.middlewares.NoLocalSchemes": 110,
    "crawler.middlewares.ContactUserAgent": 120,
    "crawler.middlewares.RetryAfterMiddleware": 560,    # sees 429/503 before the retry middleware (550)
    "crawler.middlewares.ArchiveMiddleware": 580,       # after decompression (590): what the spider sees
    "crawler.middlewares.RedirectArchiveMiddleware": 650,  # redirects, before the redirect middleware (600)
    "crawler.middlewares.FleetHosts": 950,    # a fleet's worker: last before the download, first to see its end
}
EXTENSIONS = {"scrapy.extensions.remote_control.RemoteControl": None}  # off by default; importing it costs aiohttp
ITEM_PIPELINES = {
    "pipelines.items.ExtractPipeline": 100,
    "pipelines.items.StorePipeline": 200,
}
REDIRECT_MAX_TIMES = 5
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
RETRY_TIMES = 2
ROBOTSTXT_OBEY = True
TELNETCONSOLE_ENABLED = False
USER_AGENT = "wirecrawl/0.1"  # what robots.txt rules are matched against (requests also carry CONTACT)
