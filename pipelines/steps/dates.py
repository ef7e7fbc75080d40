"""Dates: recognise a visible time line and normalise any date to ISO 8601."""
from __future__ import annotations

import re
import warnings
from datetime import datetime, timezone

from dateutil import parser as dateparser
from dateutil import tz

_MONTHS = ("january february march april may june july august september october november december "
           "jan feb mar apr jun jul aug sep sept oct nov dec").split()
_DAYS = "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun".split()
_FILLER = {"updated", "published", "posted", "last", "on", "at", "am", "pm", "a.m", "p.m", "a.m.", "p.m.",
           "utc", "gmt", "et", "est", "edt", "pt", "pst", "pdt", "ct", "cst", "cdt", "mt", "mst", "mdt",
           "bst", "cet", "cest", "of", "the", "time", "date", "modified", "first", "z"}
_TZINFOS = {"ET": tz.gettz("America/New_York"), "EST": tz.gettz("America/New_York"),
            "EDT": tz.gettz("America/New_York"), "PT": tz.gettz("America/Los_Angeles"),
            "PST": tz.gettz("America/Los_Angeles"), "PDT": tz.gettz("America/Los_Angeles"),
            "CT": tz.gettz("America/Chicago"), "CST": tz.gettz("America/Chicago"),
            "CDT": tz.gettz("America/Chicago"), "BST": tz.gettz("Europe/London"),
            "GMT": timezone.utc, "UTC": timezone.utc}
_TOKEN = re.compile(r"[A-Za-z.]+|\d{1,4}(?::\d{2})?(?:st|nd|rd|th)?|[^\sA-Za-z\d]")


def is_date_line(line: str) -> bool:
    """A line that is only a date and time (a time line such as '2:01 PM – Sunday, February 9, 2025')."""
    if len(line.split()) > 24:   # every word holds a token at least: more than 24, and no need to tokenise
        return False
    tokens = _TOKEN.findall(line)
    if not 2 <= len(tokens) <= 24:
        return False
    has_month = has_year = False
    for tok in tokens:
        low = tok.lower().rstrip(".")
        if low in _MONTHS:
            has_month = True
        elif low in _DAYS or low in _FILLER or tok.lower() in _FILLER:
            continue
        elif tok[0].isdigit():
            has_year = has_year or (len(tok) == 4 and tok.isdigit() and tok.startswith(("19", "20")))
        elif not tok.isalnum():
            continue
        else:
            return False
    return has_month and has_year or bool(re.fullmatch(r"\W*\d{4}-\d{2}-\d{2}[T ][\d:]+\W*", line))


def to_iso(value: str | None, default_tz=None) -> str | None:
    """ISO 8601 for a date string, keeping the offset it gives; None when it cannot be read."""
    if not value:
        return None
    text = re.sub(r"\b(updated|published|posted|last modified|modified)\b:?", " ", value, flags=re.I)
    text = text.replace("a.m.", "AM").replace("p.m.", "PM").replace("–", " ").replace("—", " ").replace("|", " ")
    try:
        parsed = dateparser.parse(text, fuzzy=True, tzinfos=_TZINFOS)
    except (ValueError, OverflowError, TypeError):
        return None
    if parsed.tzinfo is None and default_tz is not None:
        parsed = parsed.replace(tzinfo=default_tz)
    if parsed.year < 1990:
        return None
    return parsed.isoformat()


def from_page(tree, url: str, fetched_at: str | None) -> str | None:
    """htmldate's reading of the page's original publication date (its markup, its URL, its text), no later
    than the fetch: the last source, after structured data and a visible time line."""
    import htmldate   # imported on first use, in the workers that need it

    limit = _aware(fetched_at) if fetched_at else None
    found = None
    for extensive in (False, True):   # its extensive search (free text, dateparser) only when the rest finds none
        try:
            with warnings.catch_warnings():   # dateutil's warnings about time zones it cannot name: no date, silently
                warnings.simplefilter("ignore")
                found = htmldate.find_date(tree, extensive_search=extensive, original_date=True, outputformat="%Y-%m-%d",
                                           url=url if url.startswith("http") else None,
                                           max_date=limit.strftime("%Y-%m-%d") if limit else None)
        except Exception:   # htmldate fails on some malformed dates in markup: no date, not a failed page
            found = None
        if found:
            break
    return found


def not_after(value: str | None, limit: str | None) -> str | None:
    """The value, or None when it lies after `limit` (a date can't be later than the fetch)."""
    if value is None or limit is None:
        return value
    try:
        v, lim = _aware(value), _aware(limit)
    except ValueError:
        return value
    return None if v > lim else value


def _aware(iso: str) -> datetime:
    dt = datetime.fromisoformat(iso)
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
