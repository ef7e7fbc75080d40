"""Run in an extraction worker by test_workers.py: what the worker process has imported."""
import sys


def imported() -> tuple[str | None, bool]:
    """(the file the worker ran as its main module, if any; whether Scrapy is imported)"""
    return getattr(sys.modules["__main__"], "__file__", None), "scrapy" in sys.modules
