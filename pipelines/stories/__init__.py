"""Syndication detection: every article filed into a story (fingerprint -> candidates -> verify ->
components -> origin and relations)."""
from .filing import DedupParamsMismatch, FilingCounts, Stories

__all__ = ["DedupParamsMismatch", "FilingCounts", "Stories"]
