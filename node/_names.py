"""Private helpers for name normalisation (used by fedalert.node.normalise).

fold() is the one text folding everyone shares: NFKC, transliteration to
ASCII with anyascii (which also strips diacritics: "Séan" -> "sean",
"Łukasz" -> "lukasz"), casefold, apostrophes dropped ("O'Brien" -> "obrien"),
every other punctuation mark becomes a space, spaces collapsed.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from anyascii import anyascii

# Apostrophe-like marks join the letters either side (O'Brien, D'Arcy).
_APOSTROPHES = "'\u2018\u2019\u02bc\u0060\u00b4"
_NON_ALNUM = re.compile(r"[^a-z0-9 ]+")
_SPACES = re.compile(r"\s+")

# Surname particles: kept in the whole surname, never a surname part on their own.
PARTICLES = frozenset(
    "van von der den de la le du di da del della dos das st saint ten ter bin ibn al el ni nic ua".split()
)


@functools.lru_cache(maxsize=65536)  # a pure function of its text; names and words repeat
def fold(text: str, *, keep_hyphen: bool = False) -> str:
    """Fold free text to lower-case ASCII words separated by single spaces.

    With ``keep_hyphen`` a hyphen survives as "-" so that callers can split
    double-barrelled names; otherwise it becomes a space.
    """
    text = unicodedata.normalize("NFKC", text or "")
    for mark in _APOSTROPHES:
        text = text.replace(mark, "")
    text = anyascii(text)
    text = text.replace("'", "").casefold()
    # Any hyphen or dash-like mark anyascii produced is plain "-" now.
    if keep_hyphen:
        text = re.sub(r"\s*-+\s*", "-", text)
        text = re.sub(r"[^a-z0-9 \-]+", " ", text)
        text = text.strip("- ")
    else:
        text = _NON_ALNUM.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def join_prefixes(words: list[str]) -> list[str]:
    """Join Mc/Mac and O prefixes to the word after and spell Mc as Mac.

    "mc donald" / "mcdonald" / "mac donald" -> "macdonald"; "o brien" -> "obrien".
    A word that merely starts with "mac" ("mack", "macey") is left alone.
    """
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word in ("mc", "mac", "m", "o") and i + 1 < len(words) and words[i + 1].isalpha():
            head = "mac" if word in ("mc", "mac", "m") else "o"
            word = head + words[i + 1]
            i += 1
        if word.startswith("mc") and len(word) > 3:
            word = "mac" + word[2:]
        out.append(word)
        i += 1
    return out


@functools.lru_cache(maxsize=1)
def _nicknamer():
    from nicknames import NickNamer

    return NickNamer()


@functools.lru_cache(maxsize=8192)
def canonical_forenames(forename: str, limit: int = 12) -> tuple[str, ...]:
    """The forename plus canonical names it may be a nickname of (NickNamer).

    Only canonicals at least as long as the name are kept (a canonical form is
    the longer, formal one: "bob" -> "robert", not "robert" -> "bob"), sorted
    and capped so a very ambiguous nickname cannot multiply tokens.
    "bob" and "robert" share "robert"; "robert" stays {"robert"}.
    """
    if not forename or len(forename) < 2:
        return (forename,) if forename else ()
    found = _nicknamer().canonicals_of(forename)
    longer = sorted(c for c in found if len(c) >= len(forename) and c.isalpha() and c != forename)
    return (forename, *longer[: max(0, limit - 1)])
