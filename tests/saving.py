"""Saving outcomes into a store as a run does (pipelines.ingest): each article cleaned for its host's
current template lines first, since the store itself does no cleaning."""
from __future__ import annotations

from pipelines.model import Article, RawRef
from pipelines.steps.templates import HostTemplates


class Saver:
    """One run's saving: the host template step, with its schedule, over one store."""

    def __init__(self, store, min_articles: int = 3):
        self.store = store
        self.templates = HostTemplates(store, min_articles)

    def save(self, outcome, ref: RawRef = RawRef("x"), body_sha1: str | None = "s", version: str = "v") -> str:
        if isinstance(outcome, Article):
            outcome.body = self.templates.clean(outcome)
        return self.store.save(outcome, ref, body_sha1, version)

    def relearn(self, due_only: bool = False) -> int:
        return self.templates.relearn(due_only)


def save(store, outcome, ref: RawRef = RawRef("x"), body_sha1: str | None = "s", version: str = "v") -> str:
    return Saver(store).save(outcome, ref, body_sha1, version)
