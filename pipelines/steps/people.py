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
# "By", and its equivalents in the languages seen (German, French, Italian, Spanish/Portuguese, Dutch, Nordic,
# Polish), as a byline opens: "Von Anna Schmidt", "Par Jean Dupont", "Door Piet de Vries", "Av Ola Nordmann".
# Italian "di" only in lower case: "Di Maio" is a surname.
_BYLINE_START = re.compile(r"^\s*(by:?|written by|words by|reporting by|from|von|par|(?-i:di)|por|door|av|af|przez|autor:?|"
                           r"text:|texte:|testo di|escrito por|geschreven door)\s+", re.I)
_AND = r",|;|\s+(?:and|und|et|y|e|en|og|och|i|und von)\s+|\s*&\s*|\s*\|\s*|\s+with\s+|、"
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
    started = bool(_BYLINE_START.match(text))
    rest = _BYLINE_START.sub("", text)
    if len(text.split()) > 12 or text.endswith(("?", "!")) or re.search(r"[.;:]\s+\w+\s+\w+", rest):
        return None
    if not started and not _STAFF_WORD.search(text):
        return None
    body = _BYLINE_START.sub("", text)
    if not started and not all(_NAME_TOKEN.match(t) or t.isupper() or _ROLE.fullmatch(t)
                               for t in body.replace(",", " ").split()):
        return None  # "The staff voted on Tuesday" is a sentence, not a byline
    out = Byline()
    for part in _agencies_apart(re.split(_AND, body), out.agencies):
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


def _agencies_apart(parts: list[str], agencies: list[str]) -> list[str]:
    """The parts of a byline with a trailing agency taken off each ("Jane Doe Associated Press"), into
    `agencies`."""
    out = []
    for part in parts:
        split = wire.trailing_agency(part.strip()) if not wire.agency_of(part) else None
        if split is not None:
            part, agency = split
            if agency not in agencies:
                agencies.append(agency)
        out.append(part)
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
    """(authors, agencies) from declared author strings (structured data, an author element), each of
    which may list several names. A declared name is believed as written ("Resy Staff", "Newsdesk",
    "kirstin boatto"), less a leading "By" and trailing roles ("Jane Doe, Staff Writer"); agencies go
    apart, for wire_source."""
    people: list[str] = []
    agencies: list[str] = []
    for item in raw:
        item = _LAST_FIRST.sub(r"\2 \1", item.strip())
        for part in _agencies_apart(re.split(_AND, _BYLINE_START.sub("", item)), agencies):
            part = part.strip(" .,:;-–—|")
            if not part:
                continue
            agency = wire.agency_of(part)
            if agency:
                if agency not in agencies:
                    agencies.append(agency)
                continue
            name = declared_name(part)
            if name and name.casefold() not in {p.casefold() for p in people}:
                people.append(name)
    return people, agencies


_NOT_A_NAME = re.compile(r"https?:|www\.|@\w+\.\w|\d{2}|^[/@]|^(updated|published|posted|photo|image|foto|bild)\b"
                         r"|^on\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun)", re.I)
# A name in the "Last, First" order of library catalogues and citation_author tags.
_LAST_FIRST = re.compile(r"^([A-ZÀ-Þ][\w'’-]+),\s*([A-ZÀ-Þ][\w'’-]+(?:\s+[A-ZÀ-Þ]\.)?)$")
# What author fields hold that is no name: a month or a weekday (a date's first word), the word "author", a
# reading time, a template's placeholder ("xxx", "page.head.extra.author").
_NO_NAME = re.compile(r"^(?:jan(?:uary?)?|feb(?:ruary?)?|mar(?:ch)?|märz|apr(?:il)?|may|mai|june?|juni|july?|juli|"
                      r"aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|okt(?:ober)?|nov(?:ember)?|dec(?:ember)?|dez(?:ember)?|"
                      r"(?:mon|tues|wednes|thurs|fri|satur|sun)day|(?:the\s+)?author|autor|auteur|lesedauer|lesezeit|"
                      r"reading\s+time|x{3,})\.?:?$"
                      r"|^\w+(?:\.\w+){2,}$", re.I)


_LEADING = re.compile(r"^(text|words|photos?|story|posted|written|reported|published|reviewed|edited|fact[- ]checked)\s+by:?\s+"
                      r"|^(author|autor|auteur)\s*:\s*"
                      r"|^read\s+more\s+(about|from|by)\s+", re.I)
_CREDENTIAL = re.compile(r"^(ph\.? ?d|m\.? ?d|mba|rn|dr|md|do|phd|facp|faclm|ma|msc|bsc|jr|sr|esq)\.?$", re.I)


_STAFF_THEN_NAME = re.compile(r"^.{0,40}?\b(?:staff|staff writer|reporter|correspondent)\s+"
                              r"(?P<name>[A-ZÀ-Þ][\w'’.-]+(?:\s+[A-ZÀ-Þ][\w'’.-]+){1,3})$", re.I)


def declared_name(raw: str) -> str | None:
    """A name as a page declares it, or None for a role alone, a link, an e-mail address or a sentence.
    What follows the name in an author element goes: roles ("Contributing Writer"), a handle, a reading
    time ("5 minute read"), an update line."""
    name = " ".join(_BYLINE_START.sub("", _LEADING.sub("", raw.strip())).split()).strip(" .,")
    name = re.split(r"\s+[-–—|]\s+|\s+(?:in|at)\s+(?=[A-ZÀ-Þ])", name, maxsplit=1)[0]   # "Jane Doe - Editorial Team"
    name = re.split(r"\s+(?=\d|@|/|updated\b|published\b|posted\b|last\b)|\s+on(?:\s+(?:mon|tue|wed|thu|fri|sat|sun|jan|"
                    r"feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*\b.*)?$", name, maxsplit=1, flags=re.I)[0]
    tokens = name.split()
    if len(tokens) >= 3 and tokens[0].isupper() and tokens[0] == "".join(t[0] for t in tokens[1:]).upper():
        tokens.pop(0)   # an avatar's initials before the name ("CM Craig McCarthy")
    while len(tokens) > 1 and _ROLE.fullmatch(tokens[-1]) and tokens[-1].lower() not in ("staff", "team", "desk"):
        tokens.pop()
    while len(tokens) > 2 and tokens[-1].lower() in ("founder", "lead", "reviewer", "ceo"):
        tokens.pop()
    name = " ".join(tokens).strip(" .,")
    staff = _STAFF_THEN_NAME.match(name)
    if staff:   # "OAN Staff Blake Wolf": the outlet's staff label before the person's name
        name = staff["name"]
    if _CREDENTIAL.match(name):
        return None
    if not name or _NOT_A_NAME.search(name) or _NO_NAME.match(name) or len(name.split()) > 6 or len(name) > 60:
        return None
    if all(_ROLE.fullmatch(t) for t in name.split()):
        return None   # "Staff Writer", "Editor"
    if name.isupper() and len(name.split()) >= 2:
        name = " ".join(t.capitalize() for t in name.split())
    return name
