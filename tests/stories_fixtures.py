"""Wire stories and the ways outlets republish them, generated from a seed (nothing here is asserted on)."""
from __future__ import annotations

import random

from pages import article_html
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


TAGLINE = ("Copyright 2025 The Associated Press. All rights reserved. This material may not be published, "
           "broadcast, rewritten or redistributed without permission.")
FETCHED = "2025-03-06T00:00:00Z"  # after every page's publication
GAZETTE = ["Lakeview Gazette is an independent community newspaper founded in 1921.",
           "Sign up for the Gazette's morning briefing to get the day's news in your inbox."]


def _page(url, paragraphs, published, title, site="Example News"):
    head = f'<meta property="article:published_time" content="{published}">'
    return url, article_html(title=title, paragraphs=paragraphs, extra_head=head, site=site).encode(), {"Content-Type": "text/html"}


def labelled_pages():
    """(records, labels): labels are url -> (story, relation)."""
    records, labels = [], {}

    def add(url, paragraphs, published, story_id, relation, title="Story", site="Example News"):
        records.append(_page(url, paragraphs, published, title, site))
        labels[url] = (story_id, relation)

    for s in range(4):
        wire, day = story(500 + s), f"2025-03-0{s + 1}"
        add(f"https://apnews.example/article/{s}", wire, f"{day}T08:00:00+00:00", s, "origin", "Wire story", "AP News")
        add(f"https://www.daily.example/news/{s}", trimmed(wire, 0.6), f"{day}T09:00:00+00:00", s, "syndicated", "Retitled")
        add(f"https://www.courier.example/n/{s}", straight_quoted(wire) + story(600 + s, 1), f"{day}T10:30:00+00:00",
            s, "syndicated", "Another headline")
        add(f"https://www.herald.example/a/{s}", trimmed(wire, 0.75), f"{day}T11:00:00+00:00", s, "syndicated")
        add(f"https://www.daily.example/news/{s}?updated=1", trimmed(wire, 0.9), f"{day}T15:00:00+00:00", s, "revision")
    for b in range(3):  # briefs that share only the wire's tagline
        add(f"https://www.briefs.example/b{b}", story(700 + b, 1) + [TAGLINE], f"2025-03-02T1{b}:00:00+00:00",
            f"brief{b}", "origin", f"Brief {b}")
    for g in range(3):  # different stories in one outlet's template
        add(f"https://www.gazette.example/local/{g}", [GAZETTE[0]] + story(800 + g, 2, dateline="") + [GAZETTE[1]],
            f"2025-03-03T0{g}:00:00+00:00", f"gazette{g}", "origin", f"Gazette {g}", "Lakeview Gazette")
    return records, labels
