"""Match keys: the plaintext strings a node turns into keyed tokens.

build_match_keys(identity) maps key kind -> set of match-key strings. The
kind travels in clear with each token (the matcher grades on it); the string
never leaves the node. Every name (primary and aliases) is combined with
every date of birth (primary and alias DOBs).

Rules every kind follows (docs/MATCHING.md explains each kind):
- No key from one low-entropy field alone: never surname alone, postcode
  alone or DOB alone. Name keys always carry a full DOB, or year+month with
  full forename and surname, or the year with two phonetic names.
- Fields are joined with the unit separator "\\x1f" and a kind that holds
  several variants starts each key with a short tag, so fields can never run
  into each other and variants never collide.
"""

from __future__ import annotations

import datetime
import functools
import logging
from collections.abc import Iterable

import jellyfish

from fedalert.kinds import (  # the one list of kinds (fedalert/kinds.py); ALL_KINDS re-exported
    ADDRESS_DOB,
    ADDRESS_FORENAME,
    ADDRESS_NAME,
    ALL_KINDS,
    CHI,
    EDIT_DOB,
    EDIT_FORENAME,
    EDIT_FORENAME_DOB,
    EDIT_SURNAME,
    EDIT_SURNAME_DOB,
    EMAIL,
    FORENAME_DOB,
    FULL_NAME,
    INIT_NAME_DOB,
    NAME_DOB,
    NAME_DOB_SWAP,
    NAME_SWAP_DOB,
    NAME_YM,
    NI,
    NICK_NAME_DOB,
    PHON_NAME_DOB,
    PHON_NAME_YOB,
    PHONE,
    PNC,
    POSTCODE_NAME,
    PREFIX_NAME_DOB,
    SURNAME_DOB,
)
from fedalert.node import normalise as nz
from fedalert.node.errors import FieldValueError
from fedalert.node.identity import Identity

log = logging.getLogger(__name__)

SEP = "\x1f"

_PHONETIC = (("S", jellyfish.soundex), ("M", jellyfish.metaphone), ("N", jellyfish.nysiis))


def key(*fields: str) -> str:
    """Join fields with the unit separator (no field may contain it)."""
    for f in fields:
        if SEP in f:
            raise ValueError("a match-key field contains the separator")
    return SEP.join(fields)


def deletion_neighbourhood(text: str) -> set[str]:
    """The text and every string one deletion away from it.

    Two strings within one edit (substitution, insertion, deletion or
    adjacent transposition) always share at least one member, so equal
    tokens survive a single typo.
    """
    out = {text}
    out.update(text[:i] + text[i + 1 :] for i in range(len(text)))
    return out


def digit_neighbourhood(digits: str) -> set[str]:
    """Wildcard and transposition forms of a digit string.

    Two strings of the same length share a member exactly when they differ
    in at most one position ("19910417" / "19910411") or by one swap of
    adjacent digits ("19910417" / "19910471"). Unlike a deletion
    neighbourhood this never pairs strings two substitutions apart.
    """
    out = {f"{digits[:i]}*{digits[i + 1:]}" for i in range(len(digits))}
    for i in range(len(digits) - 1):
        a, b = sorted(digits[i : i + 2])
        out.add(f"{digits[:i]}~{a}{b}{digits[i + 2:]}")
    return out


def _dob(d: datetime.date) -> str:
    return f"{d.year:04d}{d.month:02d}{d.day:02d}"


def _phon(code: str) -> str:
    return code.strip().upper()


@functools.lru_cache(maxsize=65536)
def _normal_name(name) -> nz.NormalName:
    return nz.normalise_name(name)


@functools.lru_cache(maxsize=65536)
def _deletions(text: str) -> tuple[str, ...]:
    return tuple(deletion_neighbourhood(text))


@functools.lru_cache(maxsize=65536)
def _digit_variants(digits: str) -> tuple[str, ...]:
    return tuple(digit_neighbourhood(digits))


@functools.lru_cache(maxsize=65536)
def _phonetic(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((tag, _phon(algo(text))) for tag, algo in _PHONETIC)


@functools.lru_cache(maxsize=65536)
def _metaphone(text: str) -> str:
    return _phon(jellyfish.metaphone(text))


@functools.lru_cache(maxsize=65536)
def _nicknames(forename: str) -> tuple[str, ...]:
    return tuple(nz.nickname_forms(forename))


def build_match_keys(identity: Identity) -> dict[str, set[str]]:
    """Map key kind -> plaintext match keys for one identity (see module doc).

    Name parts, phonetic codes, deletion neighbourhoods and nickname forms
    are cached (names repeat across records). Every field is checked once
    for the separator before keys are joined.
    """
    keys: dict[str, set[str]] = {k: set() for k in ALL_KINDS}  # the empty ones are dropped at the end

    names = [_normal_name(n) for n in identity.names]
    names = [n for n in names if n.surname or n.forename]
    dobs = [_dob(d) for d in dict.fromkeys(identity.dobs)]
    dates = list(dict.fromkeys(identity.dobs))
    for n in names:
        key(n.forename, n.surname, n.forename_as_surname, *n.surnames)  # raises if a field holds the separator
    j = SEP

    for n in names:
        fn, sn, surnames = n.forename, n.surname, n.surnames
        full_fn = len(fn) >= 2
        for d, dob in zip(dates, dobs):
            if sn:
                keys[SURNAME_DOB].update([f"{form}{j}{dob}" for form in surnames])
                if n.initial:
                    keys[INIT_NAME_DOB].update([f"{n.initial}{j}{form}{j}{dob}" for form in surnames])
                keys[EDIT_SURNAME_DOB].update([f"{variant}{j}{dob}" for variant in _deletions(sn)])
            if full_fn:
                keys[FORENAME_DOB].add(f"{fn}{j}{dob}")
                keys[EDIT_FORENAME_DOB].update([f"{variant}{j}{dob}" for variant in _deletions(fn)])
            if not (full_fn and sn):
                continue
            canons = _nicknames(fn)
            keys[NAME_DOB].update([f"{fn}{j}{form}{j}{dob}" for form in surnames])
            keys[NICK_NAME_DOB].update([f"{canon}{j}{form}{j}{dob}" for form in surnames for canon in canons])
            keys[NAME_SWAP_DOB].add(j.join((*sorted((n.forename_as_surname, sn)), dob)))
            keys[PREFIX_NAME_DOB].add(j.join((*sorted((n.forename_as_surname[:3], sn[:3])), dob)))
            if d.day != d.month and d.day <= 12:
                lo, hi = sorted((d.day, d.month))
                keys[NAME_DOB_SWAP].add(f"{fn}{j}{sn}{j}{d.year:04d}{j}{lo:02d}{hi:02d}")
            tail = f"{j}{sn}{j}{dob}"
            keys[EDIT_FORENAME].update([variant + tail for variant in _deletions(fn)])
            keys[EDIT_SURNAME].update([f"{fn}{j}{variant}{j}{dob}" for variant in _deletions(sn)])
            head = f"{fn}{j}{sn}{j}"
            keys[EDIT_DOB].update([head + variant for variant in _digit_variants(dob)])
            keys[PHON_NAME_DOB].update([f"{tag}{j}{pf}{j}{ps}{j}{dob}"
                                        for (tag, pf), (_, ps) in zip(_phonetic(fn), _phonetic(sn))])
            keys[NAME_YM].add(f"{fn}{j}{sn}{j}{dob[:6]}")
        if full_fn and sn:
            keys[FULL_NAME].add(f"{fn}{j}{sn}")
            for d in dates:
                keys[PHON_NAME_YOB].add(f"{_metaphone(fn)}{j}{_metaphone(sn)}{j}{d.year:04d}")

    _identifier(keys, PNC, identity.pnc_id, nz.normalise_pnc)
    _identifier(keys, CHI, identity.chi_number, nz.normalise_chi)
    _identifier(keys, NI, identity.ni_number, nz.normalise_ni)
    _identifier(keys, PHONE, identity.phone, nz.normalise_phone)
    _identifier(keys, EMAIL, identity.email, nz.normalise_email)

    postcode = _clean(identity.postcode, nz.normalise_postcode)
    places = _address_forms(identity.address)

    def add(kind_name: str, *fields: str) -> None:
        keys[kind_name].add(key(*fields))

    for n in names:
        if postcode and len(n.forename) >= 2 and n.surname:
            add(POSTCODE_NAME, postcode, n.forename, n.surname)
        for place in places:
            if len(n.forename) >= 2:
                add(ADDRESS_FORENAME, *place, n.forename)
            if n.surname:
                add(ADDRESS_NAME, *place, n.surname)
    for place in places:
        for dob in dobs:
            add(ADDRESS_DOB, *place, dob)
    return {k: v for k, v in keys.items() if v}


def _address_forms(address: str) -> list[tuple[str, ...]]:
    """Tagged forms of the first address line (house number + street).

    "L": the whole line, spaces removed ("22 Green Street" -> "22greenst");
    "P": house number and first four letters of the street ("22", "gree"), which
    survives most typos later in the street name. A line without a house
    number is too coarse to key on and gives nothing.
    """
    line = (address or "").split(",")[0].split("\n")[0]
    words = nz.normalise_address(line).split()
    number = next((w for w in words if any(c.isdigit() for c in w)), "")
    street = "".join(w for w in words if w != number and not w.isdigit())
    if not number or len(street) < 4:
        return []
    return [("L", "".join(words)), ("P", number, street[:4])]


def _clean(value: str, fn) -> str:
    if not (value or "").strip():
        return ""
    try:
        return fn(value)
    except FieldValueError:
        return ""


def _identifier(keys: dict[str, set[str]], kind: str, value: str, fn) -> None:
    if value := _clean(value, fn):
        keys.setdefault(kind, set()).add(key(value))


def token_count(keys: dict[str, Iterable[str]]) -> int:
    return sum(len(set(v)) for v in keys.values())
