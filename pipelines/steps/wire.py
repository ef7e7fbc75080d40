"""Wire source: which news agency a story comes from (AP, Reuters, AFP, ...), and where the page credits it."""
from __future__ import annotations

import re

# Canonical code -> patterns that name the agency in bylines, credits and taglines.
AGENCIES = {
    "AP": r"the associated press|associated press|\bAP\b",
    "Reuters": r"thomson reuters|\breuters\b",
    "AFP": r"agence france[- ]presse|\bAFP\b",
    "UPI": r"united press international|\bUPI\b",
    "Bloomberg": r"bloomberg news",
    "PA": r"press association|\bPA media\b|\bPA wire\b",
    "dpa": r"deutsche presse-agentur|\bdpa\b",
    "EFE": r"\bEFE\b",
    "ANSA": r"\bANSA\b",
    "Xinhua": r"\bxinhua\b",
    "Kyodo": r"\bkyodo( news)?\b",
    "CNN Wire": r"\bCNN wire\b",
    "ANP": r"(?-i:\bANP\b)",
    "APA": r"austria presse agentur|(?-i:\bAPA\b)",
    "Belga": r"\bbelga\b",
    "Yonhap": r"\byonhap\b",
    "TASS": r"(?-i:\bTASS\b)",
    "Interfax": r"\binterfax\b",
    "Anadolu": r"anadolu (agency|ajansı)",
    "PAP": r"polska agencja prasowa|(?-i:\bPAP\b)",
    "ČTK": r"(?-i:\bČTK\b)",
    "Lusa": r"(?-i:\bLusa\b|\bLUSA\b)",
    "Europa Press": r"\beuropa press\b",
    "Jiji": r"\bjiji( press)?\b",
    "AAP": r"australian associated press|(?-i:\bAAP\b)",
    "Canadian Press": r"the canadian press",
    "NTB": r"(?-i:\bNTB\b)",
    "Ritzau": r"\britzau\b",
}
# Hostname labels of the agencies' own sites (apnews.com, reuters.com, afp.com, ...): their copy is the origin.
HOST_LABELS = {"apnews", "ap", "reuters", "afp", "upi", "dpa", "efe", "ansa", "xinhua", "bloomberg", "pa",
               "anp", "apa", "belga", "yonhap", "yna", "tass", "interfax", "aa", "pap", "ctk", "lusa",
               "europapress", "jiji", "kyodonews", "aap", "thecanadianpress", "ntb", "ritzau"}
_HOST_AGENCY = {"apnews": "AP", "ap": "AP", "yna": "Yonhap", "aa": "Anadolu", "ctk": "ČTK", "kyodonews": "Kyodo",
                "thecanadianpress": "Canadian Press", "europapress": "Europa Press"}
_NAMED = {code: re.compile(p, re.I) for code, p in AGENCIES.items()}
_CODE_OF_LABEL = {code.lower().replace(" ", ""): code for code in AGENCIES}
# "(Reporting by Jane Doe; Editing by John Roe)": Reuters' own tagline
_REUTERS_TAGLINE = re.compile(r"^\(?\s*(additional )?(reporting|writing) by\b.*\b(editing|edited) by\b", re.I)
_CONTRIBUTED = re.compile(r"contributed to this (report|story|article)", re.I)
_COPYRIGHT = re.compile(r"^\W*(copyright|©|\(c\))", re.I)
_PHOTO_NOTE = re.compile(r"\b(photo|image|picture|video|getty|illustration)\b", re.I)
_CODES = "|".join(["AP", "Reuters", "AFP", "UPI", "dpa", "EFE", "ANSA", "Xinhua", "Bloomberg", "PA"])
# "LOS ANGELES (AP) —", "NEW YORK, March 4 (Reuters) -", "PARIS (AFP) -"
_DATELINE = re.compile(r"^[A-Z][A-Za-z\d .,'’/-]{1,60}\((" + _CODES + r")\)\s*[—–-]")


def agency_of(name: str) -> str | None:
    """The agency a byline or organisation name stands for, if it is one."""
    stripped = re.sub(r"^(by|from)\s+", "", name.strip(), flags=re.I).strip(" .")
    for code, pattern in _NAMED.items():
        m = pattern.search(stripped)
        if m and len(stripped) <= len(m.group(0)) + 12:  # the name is (nearly) just the agency
            return code
    return None


def from_dateline(lines: list[str]) -> str | None:
    for line in lines[:3]:
        m = _DATELINE.match(line)
        if m:
            return m.group(1)
    return None


def datelines(lines: list[str]) -> list[str]:
    """Agencies of every dateline in the text, not only the one it opens with (a page may run wire copy
    further down)."""
    found: list[str] = []
    for line in lines:
        m = _DATELINE.match(line)
        if m and m.group(1) not in found:
            found.append(m.group(1))
    return found


def from_notes(notes: list[str]) -> str | None:
    """From a tagline or a text credit ("Copyright 2025 The Associated Press", "Photo: Reuters" aside)."""
    for note in notes:
        if re.search(r"\b(photo|image|picture|video|getty|illustration)\b", note, re.I):
            continue  # a photo credit names the photo's source, not the story's
        for code, pattern in _NAMED.items():
            if pattern.search(note):
                return code
    return None


def host_agency(host: str) -> str | None:
    """The agency whose own site this host is (apnews.com: AP), if it is one."""
    labels = host.lower().split(".")[:-1]
    label = labels[-1] if labels else ""
    if label not in HOST_LABELS:
        return None
    return _HOST_AGENCY.get(label) or _CODE_OF_LABEL.get(label)


def agencies_in(text: str) -> list[str]:
    """Every agency a credit line names ("ROBYN BECK/AFP via Getty Images": AFP)."""
    return [code for code, pattern in _NAMED.items() if pattern.search(text)]


def tagline_agencies(notes: list[str], lines: list[str], copyright_lines: bool = True) -> list[str]:
    """Agencies credited by a tagline: a removed copyright line ("Copyright 2025 The Associated Press"), or a
    short line of the page ("(Reporting by ...; Editing by ...)", "The Associated Press contributed to
    this report", "© 2025 Reuters"), in the body or beside it (extraction may leave it out; beside it,
    `copyright_lines` False, a copyright line may be the site's chrome). Photo credits name the photo's
    source, not the story's."""
    found: list[str] = []
    for note in notes:
        if not _PHOTO_NOTE.search(note):
            found += [a for a in agencies_in(note) if a not in found]
    for line in lines:
        if len(line) > 200 or _PHOTO_NOTE.search(line):
            continue
        if _REUTERS_TAGLINE.search(line) and "Reuters" not in found:
            found.append("Reuters")
        elif _CONTRIBUTED.search(line) or (copyright_lines and _COPYRIGHT.search(line)):
            found += [a for a in agencies_in(line) if a not in found]
    return found


_TRAILING = {code: re.compile(rf"[\s,/–—-]+(?:of\s+|for\s+)?(?:{p})\s*$", re.I) for code, p in AGENCIES.items()}


def trailing_agency(text: str) -> tuple[str, str] | None:
    """A name followed by its agency ("JANE WIREWRITER Associated Press", "Jane Doe, Reuters"): (the name,
    the agency's code)."""
    for code, pattern in _TRAILING.items():
        m = pattern.search(text)
        if m and m.start() > 0:
            return text[:m.start()].strip(" ,/-–—"), code
    return None
