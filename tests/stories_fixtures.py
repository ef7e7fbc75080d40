"""Wire stories and the ways outlets republish them, generated from a seed (nothing here is asserted on)."""
from __future__ import annotations

import random

from pipelines.model import Article

_WORDS = """officials said the county state city council federal judge police residents company workers school
board union report plan budget election voters governor mayor senator court agency hospital river bridge
storm flood fire road rail airport market prices shares bank loan tax rule law bill vote hearing inquiry
million billion percent year month week day night morning evening after before during while since because
although however meanwhile later earlier nearly about more than less most many several few new old local
national regional northern southern eastern western central public private early late major minor first
second third last final record high low strong weak warm cold dry wet heavy light quick slow large small
approved rejected delayed announced expected reported warned promised denied confirmed opened closed raised
cut added removed moved found lost won signed filed charged released arrested ordered asked told wrote
building project contract investigation program service system network station center office department
family children students teachers doctors nurses drivers farmers owners tenants visitors leaders critics""".split()


def story(seed: int, paragraphs: int = 10, dateline: str = "WASHINGTON (AP) — ") -> list[str]:
    """A distinct wire story: `paragraphs` paragraphs of two or three sentences."""
    rng = random.Random(seed)
    out = []
    for i in range(paragraphs):
        sentences = [" ".join(rng.choice(_WORDS) for _ in range(rng.randint(12, 20))).capitalize() + "."
                     for _ in range(rng.randint(2, 3))]
        if i == 2:  # typographic quotes and dashes, which copies often retype
            sentences.append(f"“We {rng.choice(_WORDS)} the {rng.choice(_WORDS)} — and the {rng.choice(_WORDS)} "
                             f"{rng.choice(_WORDS)},” the {rng.choice(_WORDS)}’s {rng.choice(_WORDS)} said.")
        out.append((dateline if i == 0 else "") + " ".join(sentences))
    return out


def trimmed(paragraphs: list[str], keep: float) -> list[str]:
    return paragraphs[: max(1, round(len(paragraphs) * keep))]


def straight_quoted(paragraphs: list[str]) -> list[str]:
    return [p.replace("—", "-").replace("“", '"').replace("”", '"').replace("’", "'") for p in paragraphs]


def article(url: str, lines: list[str], published: str | None, title: str = "A story",
            fetched_at: str = "2025-03-01T00:00:00+00:00") -> Article:
    host = url.split("/")[2]
    return Article(fetched_url=url, url=url, canonical_url=None, title=title, authors=[], published=published,
                   modified=None, site_name=host, host=host, language="en", description=None, tags=[], image=None,
                   image_caption=None, image_credit=None, wire_source=None, lines=lines, fetched_at=fetched_at)
