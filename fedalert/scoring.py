"""Scoring of a candidate match from its agreement pattern (no plaintext).

The matcher knows, for two records of different areas, only which key kinds
each published and on which kinds they share a token. evaluate() turns that
pattern into a Fellegi-Sunter score (log2 likelihood ratio, in bits) and a
tier. docs/MATCHING.md explains the model; in short:

* Fields, not kinds. Most kinds join two or three fields (forename,
  surname, date of birth, address), so kinds are not independent evidence.
  The pattern is first read back into one agreement level per field: the
  best level any shared kind implies (``name_dob`` shared means forename,
  surname and DOB exact; ``edit_surname_dob`` shared means surname within
  one edit and DOB exact). A field both records carry that no shared kind
  covers is a disagreement, read only when another field of the person
  agrees (a shared ``surname_dob`` and an unshared ``forename_dob`` mean
  the forenames differ). A field only one record carries is no evidence.
  Each field then adds log2(m/u) of its level, once.
* Household evidence. Place (address, postcode) and phone are shared by
  people who live together. They count only when the forename (or its
  initial) and a full DOB agree: never on their own and never with a name
  alone (a same-named parent or child at the same address whose DOB is
  missing on one record looks the same).
* Family signatures. Surname and DOB agreeing, the forenames both records
  carry differing, at a shared address or phone, is what twins show;
  forename and surname agreeing, the DOBs differing, at a shared address
  or phone, is what a same-named parent and child show. Either gets the
  fixed family weight (below the alert threshold) in place of the person
  score, and household evidence adds nothing.
* Identifiers. Each strong identifier (PNC, CHI, NI) and each contact
  identifier (phone, e-mail) is its own comparison: shared, it adds its
  agreement weight; carried by both and not shared, its disagreement weight.
* Tiers. The score sets a band (low >= threshold, medium, high); the tier is
  capped by the best grade of the kinds that counted, so a weak agreement
  (phonetic name + year of birth, place) never raises high; two medium
  comparisons together may. A shared strong identifier above the
  threshold is high.

m and u are documented per level below, set from stated assumptions about
error rates and name/DOB frequencies, not fitted on truth labels.

The kinds themselves (what each shows, its grade) are the shared vocabulary
in fedalert/kinds.py; this module is the model that weighs them. Both roles
import it: the matcher scores with it, a node describes an alert with
:func:`describe`, and the evaluator cross-checks the engine with it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from fedalert.kinds import KINDS, TIERS, Kind
from fedalert.kinds import BY_NAME as _BY_NAME

__all__ = [
    "ALERT_THRESHOLD",
    "HIGH_THRESHOLD",
    "IDENTIFIER_MU",
    "KINDS",
    "LEVELS",
    "MEDIUM_THRESHOLD",
    "TIERS",
    "Kind",
    "Level",
    "Explanation",
    "Verdict",
    "describe",
    "evaluate",
    "explain",
]

#: Score (bits) at or above which a candidate raises an alert. The prior
#: odds that a cross-area pair is the same person are about 1 in 10**6
#: (20,000 x 20,000 records per area pair with a few thousand true pairs;
#: 19.9 bits); 22 bits is posterior odds of about 4:1 at that prior.
#: docs/MATCHING.md ("Honesty") says how the 4:1 target was chosen.
ALERT_THRESHOLD = 22.0
#: Tier bands: medium starts at the alert threshold (its kinds decide
#: between low and medium); high needs 27 bits (posterior odds ~130:1).
MEDIUM_THRESHOLD = 22.0
HIGH_THRESHOLD = 27.0

PERSON_FIELDS = ("fn", "sn", "dob")
STRONG = ("pnc", "chi", "ni")
CONTACT = ("phone", "email")


@dataclass(frozen=True)
class Level:
    """One agreement level of one field, with its documented m and u."""

    field: str
    name: str
    m: float  # P(this level | same person), the field carried by both records
    u: float  # P(this level | different people)

    @property
    def weight(self) -> float:
        return math.log2(self.m / self.u)


# u: chance two different people reach the level, from frequencies: a full
# DOB 1 in 22,000 (60 birth years); a surname 1 in 1,250 and a forename 1 in
# 200 (inverse of the sum of squared frequencies of UK names); one-edit,
# phonetic and prefix forms are 1.5-10 times coarser. m: chance a true pair
# shows exactly this level, from typical error rates (a name or DOB error in
# about one record in four, nickname 3%, swapped day/month 2%, a changed or
# replaced surname 7%, a forename that differs beyond every variant 5%).
# Each field's m add up to 1 over its levels, and so do its u.
_LEVELS = (
    Level("fn", "exact", 0.83, 0.005),
    Level("fn", "nick", 0.03, 0.002),
    Level("fn", "edit", 0.04, 0.003),
    Level("fn", "phon", 0.02, 0.005),
    Level("fn", "prefix", 0.02, 0.01),
    Level("fn", "initial", 0.02, 0.08),
    Level("fn", "differ", 0.04, 0.895),
    Level("sn", "exact", 0.83, 0.0008),
    Level("sn", "edit", 0.06, 0.001),
    Level("sn", "phon", 0.02, 0.002),
    Level("sn", "prefix", 0.02, 0.005),
    Level("sn", "differ", 0.07, 0.9912),
    Level("dob", "exact", 0.91, 4.5e-5),
    Level("dob", "swap", 0.02, 4.5e-5),
    Level("dob", "edit", 0.03, 2e-3),
    Level("dob", "ym", 0.01, 1.4e-3),
    Level("dob", "year", 0.01, 0.015),
    Level("dob", "differ", 0.02, 0.98151),
    # address: first line (house number + street, or number + street prefix).
    # People move (m); households share (see the module doc).
    Level("address", "exact", 0.60, 2e-5),
    Level("postcode", "exact", 0.60, 1e-4),
)
LEVELS: dict[tuple[str, str], Level] = {(lv.field, lv.name): lv for lv in _LEVELS}
_RANK = {f: [lv.name for lv in _LEVELS if lv.field == f] for f in ("fn", "sn", "dob", "address", "postcode")}


#: Identifiers (strong and contact), each its own comparison: (m, u) of a
#: shared value. m: P(shared | same person, both carry it); u: P(shared |
#: different people). A mistyped strong id is rare; people change phone and
#: e-mail, and households share a landline.
IDENTIFIER_MU: dict[str, tuple[float, float]] = {
    "pnc": (0.95, 1e-10),
    "chi": (0.95, 1e-10),
    "ni": (0.95, 1e-10),
    "phone": (0.50, 1e-7),
    "email": (0.50, 1e-8),
}
_CARRIES: dict[str, frozenset[str]] = {
    f: frozenset(k.name for k in KINDS if f in k.fields) for f in ("fn", "sn", "dob", "address", "postcode")
}
_FULL_FORENAME = frozenset(k.name for k in KINDS if ("fn", "exact") in k.shows)
_FN_AT_LEAST_INITIAL = set(_RANK["fn"][:-1])
_FN_SAME_NAME = {"exact", "nick", "edit", "phon"}  # a forename that is the same name, not a relative's
_SN_SAME = {"exact", "edit", "phon"}
_DOB_FULL = {"exact", "swap", "edit"}

#: Weight of a family signature: m, a true pair whose forename (or DOB)
#: differs beyond every typo, nickname, phonetic and swapped form, at the
#: same address (1 in 100); u, relatives showing that pattern among
#: different people (1 in 10**6). 13.3 bits: below the alert threshold.
FAMILY_M, FAMILY_U = 0.01, 1e-6


@dataclass(frozen=True)
class Verdict:
    score: float
    tier: str | None  # "high", "medium", "low" or None (below the alert threshold)


@dataclass(frozen=True)
class Explanation:
    """Why a pattern scored as it did (field and kind names only, safe to log)."""

    score: float
    levels: dict[str, str | None]  # field -> agreement level, "differ", or None (no evidence)
    best: dict[str, str | None]  # comparison -> strongest shared kind, or None
    family: bool  # twins / same-named relatives signature
    household_counted: bool  # whether place and phone added evidence


def _levels(agreed: set[str], kinds_a: set[str], kinds_b: set[str]) -> dict[str, str | None]:
    """One agreement level per field, read from the shared kinds (module doc)."""
    best: dict[str, str] = {}
    for name in agreed:
        kind = _BY_NAME.get(name)
        if kind is None:
            continue
        for f, level in kind.shows:
            rank = _RANK.get(f)
            if rank is None:
                continue
            if f not in best or rank.index(level) < rank.index(best[f]):
                best[f] = level
    person_agrees = any(f in best for f in PERSON_FIELDS)
    out: dict[str, str | None] = {}
    for f in _RANK:
        if f == "fn" and best.get(f) == "initial" and kinds_a & _FULL_FORENAME and kinds_b & _FULL_FORENAME:
            out[f] = "differ"  # two full forenames that share only the initial (Jack / James)
        elif f in best:
            out[f] = best[f]
        elif person_agrees and f in PERSON_FIELDS and kinds_a & _CARRIES[f] and kinds_b & _CARRIES[f]:
            out[f] = "differ"  # both carry it and a shared field would have exposed agreement
        else:
            out[f] = None
    return out


def _family(lv: dict[str, str | None], household: bool) -> bool:
    """True when the pattern is what twins or same-named relatives at one address show."""
    if not household:
        return False
    fn, sn, dob = lv["fn"], lv["sn"], lv["dob"]
    twins = sn in _SN_SAME and dob in ("exact", "swap") and fn in ("differ", "prefix")
    junior = fn in _FN_SAME_NAME and sn in _SN_SAME and dob in ("differ", "year")
    return twins or junior


def _analyse(agreed: set[str], kinds_a: set[str], kinds_b: set[str]):
    agreed = {k for k in agreed if k in _BY_NAME}
    kinds_a, kinds_b = set(kinds_a) | agreed, set(kinds_b) | agreed
    lv = _levels(agreed, kinds_a, kinds_b)
    household_shared = bool(lv["address"] or lv["postcode"] or "phone" in agreed)
    family = _family(lv, household_shared)
    household_counted = (not family and lv["fn"] in _FN_AT_LEAST_INITIAL and lv["dob"] in _DOB_FULL)

    score = 0.0
    if family:
        score += math.log2(FAMILY_M / FAMILY_U)
    else:
        for f in PERSON_FIELDS:
            if lv[f] is not None:
                score += LEVELS[(f, lv[f])].weight
        if household_counted:
            for f in ("address", "postcode"):
                if lv[f] is not None:
                    score += LEVELS[(f, lv[f])].weight
    for name in (*STRONG, *CONTACT):
        m, u = IDENTIFIER_MU[name]
        if name in agreed:
            if name == "phone" and not household_counted:
                continue  # housemates and relatives share a landline: no evidence here
            score += math.log2(m / u)
        elif name in kinds_a and name in kinds_b:
            score += math.log2((1 - m) / (1 - u))

    best = _best(agreed, family, household_counted)
    return round(score, 3), lv, best, family, household_counted


def _best(agreed: set[str], family: bool, household_counted: bool) -> dict[str, Kind | None]:
    """Strongest shared kind per comparison: person, place, and each identifier."""
    order = {k.name: i for i, k in enumerate(KINDS)}
    best: dict[str, Kind | None] = {c: None for c in ("person", "place", *STRONG, *CONTACT)}
    for name in sorted(agreed, key=order.__getitem__):
        kind = _BY_NAME[name]
        comparison = name if name in STRONG or name in CONTACT else (
            "place" if kind.fields & {"address", "postcode"} else "person")
        if comparison in ("place", "phone") and not household_counted:
            continue
        if comparison == "person" and family:
            kind = Kind("family", "low", ())
        if best[comparison] is None:
            best[comparison] = kind
    return best


def explain(agreed: set[str], kinds_a: set[str], kinds_b: set[str]) -> Explanation:
    """The score and the reading behind it, for reports and debugging."""
    score, lv, best, family, counted = _analyse(agreed, kinds_a, kinds_b)
    return Explanation(score, lv, {c: (k.name if k else None) for c, k in best.items()}, family, counted)


_WORDS = {
    "fn": "forename", "sn": "surname", "dob": "date of birth", "address": "address", "postcode": "postcode",
    "pnc": "PNC id", "chi": "CHI number", "ni": "NI number", "phone": "phone", "email": "e-mail",
}
_LEVEL_WORDS = {
    "exact": "same", "nick": "nickname", "edit": "one typo", "phon": "sounds alike", "prefix": "first letters",
    "initial": "initial", "swap": "day and month swapped", "ym": "year and month", "year": "year only",
}


def describe(agreed: Iterable[str]) -> str:
    """What agreed, in plain words, from the shared kinds alone (for the people reading alerts).

    "forename nickname, surname same, date of birth same". Only agreement is
    described: what the other record lacks or disagrees on is the matcher's
    to weigh, not the node's to see. Unknown kinds are ignored.
    """
    agreed = {k for k in agreed if k in _BY_NAME}
    lv = _levels(agreed, agreed, agreed)
    parts = [f"{_WORDS[f]} {_LEVEL_WORDS[level]}" for f, level in lv.items() if level and level != "differ"]
    if "name_swap_dob" in agreed and "name_dob" not in agreed:
        parts.append("forename and surname entered the wrong way round")
    parts += [f"{_WORDS[k]} same" for k in (*STRONG, *CONTACT) if k in agreed]
    return ", ".join(parts) or "nothing"


def evaluate(
    agreed: set[str],
    kinds_a: set[str],
    kinds_b: set[str],
    *,
    threshold: float = ALERT_THRESHOLD,
) -> Verdict:
    """Score the agreement pattern of one candidate pair (see module doc).

    ``agreed``: kinds on which the two records share a token; ``kinds_a`` /
    ``kinds_b``: kinds each record published. Unknown kinds are ignored.
    """
    score, _, best, _, _ = _analyse(agreed, kinds_a, kinds_b)
    if score < threshold:
        return Verdict(score, None)
    if any(best[c] is not None for c in STRONG):
        return Verdict(score, "high")
    band = 2 if score >= max(HIGH_THRESHOLD, threshold) else 1 if score >= max(MEDIUM_THRESHOLD, threshold) else 0
    return Verdict(score, TIERS[min(band, _cap(best))])


def _cap(best: dict[str, Kind | None]) -> int:
    """Highest tier the counted kinds may raise (see module doc)."""
    grades = [TIERS.index(k.grade) for k in best.values() if k is not None]
    if not grades:
        return 0
    top = max(grades)
    if top == 1 and sum(1 for g in grades if g >= 1) >= 2:
        top = 2  # two independent comparisons at medium grade
    return top
