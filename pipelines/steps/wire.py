"""Wire source: which news agency a story comes from (AP, Reuters, AFP, ...)."""
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
_NAMED = {code: re.compile(p, re.I) for code, p in AGENCIES.items()}
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


def from_notes(notes: list[str]) -> str | None:
    """From a tagline or a text credit ("Copyright 2025 The Associated Press", "Photo: Reuters" aside)."""
    for note in notes:
        if re.search(r"\b(photo|image|picture|video|getty|illustration)\b", note, re.I):
            continue  # a photo credit names the photo's source, not the story's
        for code, pattern in _NAMED.items():
            if pattern.search(note):
                return code
    return None
