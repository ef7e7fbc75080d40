"""Bylines and author names: person names only; agencies are set aside as wire sources."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import wire

_ROLE = re.compile(
    r"\b(staff|staff writer|reporter|correspondent|writer|editor|contributor|columnist|producer|"
    r"senior|chief|political|business|news|desk|team|special|foreign|national|deputy|associate|"
    r"contributing|investigative|reporting|writing|editing|by|for|and|with|in|updated|published|"
    r"photographer|analyst|host|presenter)\b", re.I)
_BYLINE_START = re.compile(r"^\s*(by|written by|words by|reporting by|from)\s+", re.I)
_STAFF_WORD = re.compile(r"\b(staff|reporter|correspondent|writer|editor|contributor|columnist)\b", re.I)
_NAME_TOKEN = re.compile(r"^[A-ZÀ-Þ][\w'’.-]*$|^(de|da|van|von|der|del|la|le|bin|al|dos|di)$")


@dataclass
class Byline:
    people: list[str] = field(default_factory=list)
    agencies: list[str] = field(default_factory=list)


def parse_byline(line: str) -> Byline | None:
    """A byline line ("By Jane Doe and John Roe", "OAN Staff Blake Wolf") parsed, or None if the
    line is not a byline."""
    text = line.strip()
    if len(text.split()) > 12 or text.endswith(("?", "!")) or re.search(r"[.;:]\s+\w+\s+\w+", text):
        return None
    started = bool(_BYLINE_START.match(text))
    if not started and not _STAFF_WORD.search(text):
        return None
    body = _BYLINE_START.sub("", text)
    if not started and not all(_NAME_TOKEN.match(t) or t.isupper() or _ROLE.fullmatch(t)
                               for t in body.replace(",", " ").split()):
        return None  # "The staff voted on Tuesday" is a sentence, not a byline
    out = Byline()
    for part in re.split(r",|\s+and\s+|\s*&\s*|\s*\|\s*|\s+with\s+", body):
        agency = wire.agency_of(part)
        if agency:
            out.agencies.append(agency)
            continue
        name = person_name(part)
        if name:
            out.people.append(name)
    if not out.people and not out.agencies:
        return None
    return out


def person_name(raw: str) -> str | None:
    """A person's name from a byline fragment, or None when the fragment names no person."""
    if wire.agency_of(raw) or raw.strip().startswith("http"):
        return None
    tokens = [t for t in re.sub(r"^(by|from)\s+", "", raw.strip(), flags=re.I).split()
              if not _ROLE.fullmatch(t)]
    # Drop organisation acronyms that stand before a staff name ("OAN Staff Blake Wolf").
    while len(tokens) > 2 and tokens[0].isupper() and len(tokens[0]) <= 5:
        tokens.pop(0)
    if not 2 <= len(tokens) <= 5 or not all(_NAME_TOKEN.match(t) for t in tokens):
        return None
    if all(t.isupper() for t in tokens):
        tokens = [t.capitalize() for t in tokens]
    return " ".join(tokens).strip(" .,")


def normalise_authors(raw: list[str]) -> tuple[list[str], list[str]]:
    """(people, agencies) from declared author strings, each of which may list several names."""
    people: list[str] = []
    agencies: list[str] = []
    for item in raw:
        for part in re.split(r",|\s+and\s+|\s*&\s*|\s*\|\s*|;", item):
            if not part.strip():
                continue
            agency = wire.agency_of(part)
            if agency:
                agencies.append(agency)
                continue
            name = person_name(part)
            if name and name not in people:
                people.append(name)
    return people, agencies
