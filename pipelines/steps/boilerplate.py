"""Strip boilerplate that extraction lets through, line by line, with general rules.

Each rule is a name and a predicate over one line; a removed line is counted under its rule's name.
Rules look at the shape of the whole line (short, imperative, only a marker), so a real sentence that
merely mentions a word ("The advertisement ran during the Super Bowl.") stays. Some removed lines carry
metadata (byline, time line, photo caption and credit): those are returned as hints, not lost.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from . import dates, people, wire

_I = re.IGNORECASE


@lru_cache(maxsize=64)   # every rule asks about the same line in turn: it is split once
def _words(line: str) -> int:
    return len(line.split())


@lru_cache(maxsize=64)   # three rules ask for it
def _bare(line: str) -> str:
    """Lower case, without surrounding punctuation, decoration and white space."""
    return re.sub(r"^[\W_]+|[\W_]+$", "", line.lower()).strip()


_AD = re.compile(
    r"(advertisements?|ads?|sponsored( content| links?| post)?|promoted( content)?|paid (content|post)"
    r"|advertisements? (below|above)|(story|article|content|text) continues (below|after)( this)?( advertisement| ad)?"
    r"|story continues below( this)? (advertisement|ad)|continue reading( below| the main story)?"
    r"|scroll (down )?to continue( reading| with content)?|skip (this )?ad(vertisement)?"
    r"|advertisement\W+scroll to continue( reading)?)", _I)


def is_ad_marker(line: str) -> bool:
    return _words(line) <= 8 and bool(_AD.fullmatch(_bare(line)))


_CTA_START = re.compile(
    r"^(sign up|subscribe|register|join|get|receive|download|stay (informed|up to date|updated|in the know)"
    r"|don'?t miss|never miss|want (more|to)|like (this|what)|enjoy(ed)?|click|tap|follow|become a (member|subscriber)"
    r"|support (our|independent)|already a subscriber|to continue reading|unlock)\b", _I)
_CTA_TOPIC = re.compile(
    r"\b(newsletters?|inbox|e-?mail|alerts?|app|subscribe|subscription|subscriber|updates|premium|sign up|here|"
    r"free trial|briefing|journalism)\b", _I)
_CTA_ANYWHERE = re.compile(
    r"\b(subscribe (here|now|today)|sign up (here|now|today)|click here|tap here|(in|to) your inbox"
    r"|sign up for (our|the|a) .{0,40}newsletter|subscribe to (our|the) .{0,40}(newsletter|channel|podcast))\b", _I)
_URL = re.compile(r"https?://\S+|www\.\S+", _I)


def is_call_to_action(line: str) -> bool:
    if _words(line) > 45:
        return False
    if _CTA_ANYWHERE.search(line):
        return True
    return bool(_CTA_START.search(line.lstrip("“\"'‘ ")) and (_CTA_TOPIC.search(line) or _URL.search(line)))


_SHARE = re.compile(
    r"(share( this( post| article| story| page| video)?)?( on (facebook|twitter|x|linkedin|whatsapp|email|reddit))?"
    r"|share (via|with) \w+|(click|tap) to share.*|tweet this|email this( article| story)?|print this( article| story)?"
    r"|copy (the )?link( url)?|copied|show more sharing options|close extra sharing options"
    r"|(follow|like) us on .{1,40}|share this with your friends)", _I)


_SHARE_TARGET = re.compile(r"(share( this| on| via)?|on|via|facebook|twitter|x|linkedin|whatsapp|email|e-mail|reddit|"
                           r"pinterest|flipboard|telegram|bluesky|threads|print|copy( link)?|link|comments?|\d+)", _I)


def is_share_prompt(line: str) -> bool:
    """"Share this post!", or a row of share buttons ("Share on Facebook Share on X Email")."""
    if _words(line) > 12:
        return False
    bare = _bare(line)
    if _SHARE.fullmatch(bare):
        return True
    tokens = re.split(r"[\s|,/·•]+", bare)
    return bare.startswith("share") and all(_SHARE_TARGET.fullmatch(t) for t in tokens if t)


_TEASER = re.compile(
    r"^\W*(read more|read next|related( coverage| stories| story| articles?| content| reading)?|see also|more from [^:]{1,40}"
    r"|more on (this|that)( story)?|also read|recommended( for you| reading)?|watch|listen|must read|most read"
    r"|trending( now)?|top stories|more|editor'?s picks?|latest|read the full story|further reading)\s*[:|>»—–-]", _I)
_TEASER_WHOLE = re.compile(
    r"(read more|read next|related|related (coverage|stories|articles|content)|see also|also read|recommended"
    r"|more stories|most read|top stories|you may also like|more from this section|read the full story)", _I)


def is_teaser(line: str) -> bool:
    if _words(line) > 40:
        return False
    return bool(_TEASER.match(line)) or bool(_TEASER_WHOLE.fullmatch(_bare(line))) or _doubled(line)


def _doubled(line: str) -> bool:
    """A card's headline written twice in a row (image text and link text), "Title Title": never prose."""
    words = line.split()
    half = len(words) // 2
    return half >= 3 and len(words) % 2 == 0 and words[:half] == words[half:]


_CREDIT_TAIL = re.compile(
    r"\(\s*((photo|image|picture|video|graphic|illustration|file photo)s?( illustration)?\s*(by|:|/|courtesy( of)?)[^()]*"
    r"|[^()]*\b(AP|AFP|Reuters|EPA|Getty Images|Shutterstock|Bloomberg|Pool)\b[^()]*(photo|images?|via [^()]+)"
    r"|(AP|AFP|Reuters|EPA) photo[^()]*)\)\W*$", _I)
_CREDIT_LINE = re.compile(
    r"^((photo|image|picture|photograph|video|illustration)( credit)?|credit|source|copyright)\s*[:|]"
    r"|(?<=[.!?] )(REUTERS|AFP|AP|EPA|EPA-EFE)/[A-Z][\w .'’-]{1,50}$"
    r"|(?<=[.!?] )(photo|image|picture|photograph|illustration|composite)( credit)?\s*:\s*[^.]{2,80}$"
    r"|[|/]\s*(getty images|ap|afp|reuters|epa|shutterstock|alamy|pa( wire| images)?|bloomberg)\W*$", _I)


def split_caption(line: str) -> tuple[str, str] | None:
    """(caption, credit) when the line is a photo caption with a credit, else None."""
    if _words(line) > 80:
        return None
    m = _CREDIT_TAIL.search(line) if ")" in line else None
    if m:
        return line[:m.start()].strip(), m.group(0).strip().strip("()").strip()
    m = _CREDIT_LINE.search(line) if ":" in line or "|" in line or "/" in line else None
    if m and _words(line) <= 40:
        if m.start() == 0:
            return "", line.strip()
        return line[:m.start()].strip(), line[m.start():].strip(" |/")
    return None


_COPYRIGHT = re.compile(
    r"^\W*(copyright\s*(©|\(c\))?|©|\(c\))\s*\d{4}\b"
    r"|^\W*copyright\s*(©|\(c\))|©|\ball rights reserved\b"
    r"|may not be (re)?published,? broadcast,? rewritten,? or redistributed"
    r"|for your personal,? non-?commercial use only|\bthis material may not be\b"
    r"|^(our|editorial) standards\b|^order a reprint of this (story|article)|^reprints? (&|and) permissions$", _I)


# Words one of which any _COPYRIGHT match contains: without one, the (slow, unanchored) search is skipped.
# Lower-casing equals the pattern's IGNORECASE except for four letters that also match ASCII ones.
_COPYRIGHT_WORDS = ("©", "(c)", "copyright", "all rights reserved", "may not be", "for your personal", "standards",
                    "reprint")
_ODD_CASE = re.compile("[\u0130\u0131\u017f\u212a]")   # İ ı ſ K


def is_copyright(line: str) -> bool:
    if _words(line) > 70:
        return False
    low = line.lower()
    if not any(w in low for w in _COPYRIGHT_WORDS) and not _ODD_CASE.search(line):
        return False
    return bool(_COPYRIGHT.search(line))


RULES = (
    ("ad_marker", is_ad_marker),
    ("call_to_action", is_call_to_action),
    ("share_prompt", is_share_prompt),
    ("teaser", is_teaser),
    ("copyright", is_copyright),
)
# Deleted when bench/extraction.py measured them (issue 20): contribution notes, editor's notes, tag lists and
# embedded posts' attribution lines lost on extraction-dev or the syndication set and gained nowhere.

_HEAD_LINES = 4  # bylines and time lines are looked for before the body starts


@dataclass
class Cleaned:
    lines: list[str]
    removed: dict[str, int] = field(default_factory=dict)
    authors: list[str] = field(default_factory=list)
    agencies: list[str] = field(default_factory=list)
    date_line: str | None = None
    image_caption: str | None = None
    image_credit: str | None = None
    notes: list[str] = field(default_factory=list)   # removed lines that may name a wire (taglines, credits)


def strip_boilerplate(lines: list[str], off: tuple[str, ...] = ()) -> Cleaned:
    """The lines without boilerplate, and what the removed lines said. `off`: steps switched off for
    measuring (options.STEPS: rule_<name>, byline_text, date_text)."""
    out = Cleaned(lines=[])
    rules = tuple((name, predicate) for name, predicate in RULES if f"rule_{name}" not in off)
    for line in (" ".join(raw.split()) for raw in lines):
        if not line:
            continue
        rule = _rule_for(line, out, len(out.lines) < _HEAD_LINES and not _body_started(out.lines), rules, off)
        if rule is None:
            out.lines.append(line)
        else:
            out.removed[rule] = out.removed.get(rule, 0) + 1
    while "rule_author_bio" not in off and out.lines and is_author_bio(out.lines[-1]):
        out.lines.pop()
        out.removed["author_bio"] = out.removed.get("author_bio", 0) + 1
    return out


_BIO = re.compile(r"^[A-Z][\w.'’ -]{2,60}? (is|was|has been) (a|an|the) ([\w,-]+ ){0,5}(reporter|writer|correspondent|"
                  r"editor|columnist|journalist|contributor|producer|author|critic|fellow|anchor|host)\b")


def is_author_bio(line: str) -> bool:
    """"Jane Doe is a reporter at the Times who covers ..." (only looked for at the end of the body)."""
    return _words(line) <= 120 and bool(_BIO.match(line))


def _body_started(kept: list[str]) -> bool:
    return any(_words(line) >= 25 for line in kept)


def _rule_for(line: str, out: Cleaned, in_head: bool, rules=RULES, off: tuple[str, ...] = ()) -> str | None:
    """The name of the rule that removes the line, recording what it says into `out`, or None."""
    for name, predicate in rules:
        if predicate(line):
            if name == "copyright":
                out.notes.append(line)
            return name
    caption = split_caption(line) if "rule_caption_credit" not in off else None
    if caption is not None:
        if out.image_credit is None:
            out.image_caption, out.image_credit = caption[0] or None, caption[1]
        out.notes.append(caption[1])
        return "caption_credit"
    agency = wire.agency_of(line) if _words(line) <= 4 and "byline_text" not in off else None
    if agency:  # an agency credit standing alone ("Associated Press")
        out.agencies.append(agency)
        return "byline"
    if in_head and "byline_text" not in off:
        byline = people.parse_byline(line)
        if byline is not None:
            out.authors.extend(n for n in byline.people if n not in out.authors)
            out.agencies.extend(byline.agencies)
            return "byline"
    if "date_text" not in off and dates.is_date_line(line):
        out.date_line = out.date_line or line
        return "date_line"
    return None
