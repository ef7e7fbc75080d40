"""Many extracting workers, one filer: the results travel through Redis (queue.py)."""
