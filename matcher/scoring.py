"""Scoring of a candidate match from its agreement pattern (no plaintext).

The matcher knows, for two records of different areas, only which key kinds
each published and on which kinds they share a token. evaluate() turns that
pattern into a Fellegi-Sunter score (log2 likelihood ratio, in bits) and a
tier. docs/MATCHING.md explains the model; in short:

* Comparisons. Name and DOB kinds form one comparison, "person", read as an
  ordered decision list from the most to the least exact kind: each kind both
  records carry but do not share adds its disagreement weight
  log2((1-m)/(1-u)); the first shared kind adds its agreement weight
  log2(m/u) and ends the list (weaker kinds are implied by it). m and u are
  conditional on every stronger kind having disagreed. Strong identifiers,
  contact identifiers and place are further comparisons read the same way.
  A kind only one record carries is no evidence either way.
* Family signature. Surname and DOB shared while both records carry a
  forename that is not shared (not even by nickname, initial-free phonetic
  or one-edit forms) is what twins show. It gets its own weight and place
  kinds without a forename add nothing, because relatives share addresses.
* Tiers. The score sets a band (low >= ALERT_THRESHOLD, medium, high); the
  tier is capped by the best grade of the kinds that agreed, so a weak
  agreement (phonetic name + year of birth, place) never raises high. A
  shared strong identifier (PNC, CHI, NI) above the alert threshold is high.

m and u are documented per kind below, set from stated assumptions about
error rates and name/DOB frequencies, never fitted on truth labels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "ALERT_THRESHOLD",
    "HIGH_THRESHOLD",
    "MEDIUM_THRESHOLD",
    "KINDS",
    "Kind",
    "Verdict",
    "evaluate",
]

#: Score (bits) at or above which a candidate raises an alert (tier "low").
#: At prior odds of 1 in 10**6 (about one true pair per million cross-area
#: pairs) 19 bits is posterior odds about 0.5; see docs/MATCHING.md.
ALERT_THRESHOLD = 19.0
MEDIUM_THRESHOLD = 21.0  # posterior odds about 2 at that prior
HIGH_THRESHOLD = 27.0  # posterior odds about 130 at that prior

TIERS = ("low", "medium", "high")
STRONG = ("pnc", "chi", "ni")


@dataclass(frozen=True)
class Kind:
    """Documented m and u of one key kind, and what it is built from."""

    name: str
    m: float  # P(shared | same person, every stronger kind of its comparison not shared)
    u: float  # P(shared | different people, same condition)
    grade: str  # best tier this kind can raise on its own: high, medium or low
    fields: frozenset[str]  # fields the key is built from
    comparison: str

    @property
    def agree(self) -> float:
        return math.log2(self.m / self.u)

    @property
    def disagree(self) -> float:
        return math.log2((1 - self.m) / (1 - self.u))


def _k(name, m, u, grade, fields, comparison):
    return Kind(name, m, u, grade, frozenset(fields.split()), comparison)


# Order within a comparison matters: strongest first.
KINDS: tuple[Kind, ...] = (
    # person: forename (fn), surname (sn), date of birth (dob)
    _k("name_dob", 0.70, 1e-10, "high", "fn sn dob", "person"),
    _k("name_swap_dob", 0.05, 1e-10, "high", "fn sn dob", "person"),
    _k("name_dob_swap", 0.05, 1e-10, "high", "fn sn dob", "person"),
    _k("edit_forename", 0.30, 1e-9, "high", "fn sn dob", "person"),
    _k("edit_surname", 0.30, 1e-9, "high", "fn sn dob", "person"),
    _k("edit_dob", 0.30, 1e-9, "high", "fn sn dob", "person"),
    _k("nick_name_dob", 0.10, 1e-9, "medium", "fn sn dob", "person"),
    _k("phon_name_dob", 0.30, 2e-9, "medium", "fn sn dob", "person"),
    _k("prefix_name_dob", 0.30, 3e-9, "medium", "fn sn dob", "person"),
    _k("name_ym", 0.20, 5e-9, "medium", "fn sn dob", "person"),
    _k("init_name_dob", 0.10, 1e-7, "low", "sn dob", "person"),
    _k("surname_dob", 0.30, 5e-8, "low", "sn dob", "person"),
    _k("forename_dob", 0.30, 2e-7, "low", "fn dob", "person"),
    _k("phon_name_yob", 0.20, 1e-6, "low", "fn sn", "person"),
    _k("full_name", 0.50, 5e-6, "low", "fn sn", "person"),
    # strong identifiers: each its own comparison
    _k("pnc", 0.95, 1e-10, "high", "pnc", "pnc"),
    _k("chi", 0.95, 1e-10, "high", "chi", "chi"),
    _k("ni", 0.95, 1e-10, "high", "ni", "ni"),
    # contact identifiers: people change them, and households share them
    _k("phone", 0.50, 1e-7, "medium", "phone", "phone"),
    _k("email", 0.50, 1e-8, "medium", "email", "email"),
    # place
    _k("address_forename", 0.60, 1e-8, "medium", "address fn", "place"),
    _k("postcode_name", 0.50, 1e-7, "medium", "postcode fn sn", "place"),
    _k("address_dob", 0.60, 1e-7, "medium", "address dob", "place"),
    _k("address_name", 0.60, 1e-6, "low", "address sn", "place"),
)

_BY_NAME = {k.name: k for k in KINDS}
_COMPARISONS: dict[str, list[Kind]] = {}
for _kind in KINDS:
    _COMPARISONS.setdefault(_kind.comparison, []).append(_kind)

#: Weight of a family signature (see _family): m, a true pair whose
#: forename (or DOB) differs beyond every typo, nickname, phonetic and
#: swapped form (1 in 100); u, relatives who show that pattern among
#: non-matching pairs (1 in 10**6).
FAMILY_M, FAMILY_U = 0.01, 1e-6
#: Comparisons relatives share, so no evidence under a family signature.
FAMILY_SHARED = ("place", "phone")
_FORENAME_DOB_KINDS = ("forename_dob", "name_dob")
_DOB_KINDS = ("name_dob", "surname_dob", "forename_dob")


def _family(person: Kind | None, both: set[str], agreed: set[str]) -> bool:
    """True when the person comparison shows what relatives show.

    Twins: surname and DOB shared, both records carry a forename with a DOB
    and no forename kind is shared. Same-named relatives (parent and child):
    forename and surname shared, both carry a DOB and no DOB kind is shared.
    A record that lacks the forename or DOB is no such evidence.
    """
    if person is None:
        return False
    if "fn" not in person.fields and "dob" in person.fields:
        return any(k in both for k in _FORENAME_DOB_KINDS)
    if "dob" not in person.fields and "fn" in person.fields and "sn" in person.fields:
        return any(k in both for k in _DOB_KINDS)
    return False


@dataclass(frozen=True)
class Verdict:
    score: float
    tier: str | None  # "high", "medium", "low" or None (below the alert threshold)


def _band(score: float, threshold: float) -> int:
    if score >= max(HIGH_THRESHOLD, threshold):
        return 2
    if score >= max(MEDIUM_THRESHOLD, threshold):
        return 1
    if score >= threshold:
        return 0
    return -1


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
    agreed = set(agreed)
    both = (set(kinds_a) & set(kinds_b)) | agreed
    score = 0.0
    best: dict[str, Kind | None] = {}
    for comparison, kinds in _COMPARISONS.items():
        best[comparison] = None
        for kind in kinds:
            if kind.name not in both:
                continue
            if kind.name in agreed:
                best[comparison] = kind
                break
            score += kind.disagree

    family = _family(best["person"], both, agreed)
    for comparison, kind in best.items():
        if kind is None:
            continue
        if family and comparison == "person":
            score += math.log2(FAMILY_M / FAMILY_U)
        elif family and comparison in FAMILY_SHARED:
            continue  # relatives share addresses and home phones: no evidence
        else:
            score += kind.agree

    band = _band(score, threshold)
    if band < 0:
        return Verdict(round(score, 3), None)
    cap = _cap(best, family)
    if any(best[c] is not None for c in STRONG):
        cap = band = 2
    return Verdict(round(score, 3), TIERS[min(band, cap)])


def _cap(best: dict[str, Kind | None], family: bool) -> int:
    """Highest tier the agreeing kinds may raise (see module doc)."""
    grades = [TIERS.index(k.grade) for c, k in best.items() if k is not None]
    if family:  # the person comparison counts only as low evidence
        grades = [TIERS.index(k.grade) for c, k in best.items() if k is not None and c != "person"] + [0]
    if not grades:
        return 0
    top = max(grades)
    # Two independent comparisons agreeing at medium grade together count as high.
    if top == 1 and sum(1 for g in grades if g >= 1) >= 2:
        top = 2
    return top
