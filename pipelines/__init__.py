"""The core steps and the thin Scrapy item pipelines over them."""
import os

# wirecrawl does no linear algebra, and each of its processes imports numpy: left alone, OpenBLAS starts a
# thread per core at that import, which spins for a while (0.08-0.1 s of CPU in each process, measured),
# taking a core from the extraction workers. One thread, unless the user says otherwise.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
