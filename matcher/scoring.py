"""Scoring of a candidate match from its agreement pattern (no plaintext).

The matcher knows, for two records of different areas, only which key kinds
each published and on which kinds they share a token. evaluate() turns that
pattern into a Fellegi-Sunter score (log2 likelihood ratio, in bits) and a
tier. docs/MATCHING.md explains the model; in short:

* Comparisons. The name and DOB kinds form one comparison, "person", read as
  an ordered decision list from the most to the least exact kind: each kind
  both records carry but do not share adds its disagreement weight
  log2((1-m)/(1-u)); the first shared kind adds its agreement weight
  log2(m/u) and ends the list (weaker kinds are implied by it). m is
  conditional on the earlier kinds both records carry having failed; a
  kind that is the first both records carry (the other record lacks a
  forename, say) uses its plain m_first instead. Each strong
  identifier, each contact identifier and place are further comparisons,
  read the same way. A kind only one record carries is no evidence.
* Household evidence. Place (address, postcode) and phone are shared by
  people who live together. They count only when the person comparison
  agrees on a forename (or its initial) together with a full DOB: never
  on their own, and never with a name alone (a same-named parent or child
  at the same address whose DOB is missing on one record looks the same).
* Family signatures. Surname and DOB shared while the forenames (or
  initials) both records carry differ is what twins show; forename and
  surname shared while the DOBs both carry differ is what a same-named
  parent and child show. Either gets the fixed family weight (below the
  alert threshold) and household evidence adds nothing.
* Tiers. The score sets a band (low >= threshold, medium, high); the tier is
  capped by the best grade of the kinds that agreed, so a weak agreement
  (phonetic name + year of birth, place) never raises high; two medium
  comparisons together may. A shared strong identifier (PNC, CHI, NI)
  above the threshold is high.

m and u are documented per kind below, set from stated assumptions about
error rates and name/DOB frequencies, not fitted on truth labels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "ALERT_THRESHOLD",
    "HIGH_THRESHOLD",
    "KINDS",
    "MEDIUM_THRESHOLD",
    "TIERS",
    "Kind",
    "Explanation",
    "Verdict",
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

TIERS = ("low", "medium", "high")
STRONG = ("pnc", "chi", "ni")
HOUSEHOLD = ("place", "phone")


@dataclass(frozen=True)
class Kind:
    """Documented m and u of one key kind, and what it is built from."""

    name: str
    m: float  # P(shared | same person, an earlier kind of its comparison was compared and failed)
    u: float  # P(shared | different people)
    grade: str  # best tier this kind can raise on its own: high, medium or low
    fields: frozenset[str]  # fn forename, fi forename initial, sn surname, dob, ...
    comparison: str
    m_first: float  # P(shared | same person) when it is the first kind both records carry

    def agree(self, first: bool = False) -> float:
        return math.log2((self.m_first if first else self.m) / self.u)

    def disagree(self, first: bool = False) -> float:
        return math.log2((1 - (self.m_first if first else self.m)) / (1 - self.u))


def _k(name: str, m: float, u: float, grade: str, fields: str, comparison: str, m_first: float | None = None) -> Kind:
    fs = frozenset(fields.split())
    if "fn" in fs:
        fs |= {"fi"}
    return Kind(name, m, u, grade, fs, comparison, m if m_first is None else m_first)


# u: chance two different people agree, from frequencies: a full DOB 1 in
# 22,000 (60 birth years); a surname 1 in 1,250 and a forename 1 in 200
# (inverse of the sum of squared frequencies of UK names); phonetic codes and
# 3-letter prefixes are 2-4 times coarser; relatives lift some u (see
# FAMILY_*). m: conditional chance a true pair agrees here after every
# earlier kind failed, from typical error rates (a record with a name or
# DOB error about 30%, nickname 5%, swapped day/month 2%, and so on).
KINDS: tuple[Kind, ...] = (
    # person, strongest first
    _k("name_dob", 0.70, 1e-10, "high", "fn sn dob", "person"),
    _k("name_swap_dob", 0.05, 1e-10, "high", "fn sn dob", "person"),
    _k("name_dob_swap", 0.05, 1e-10, "high", "fn sn dob", "person"),
    _k("edit_forename", 0.15, 1e-9, "high", "fn sn dob", "person"),
    _k("edit_surname", 0.15, 1e-9, "high", "fn sn dob", "person"),
    _k("edit_dob", 0.15, 1e-8, "medium", "fn sn dob", "person"),
    _k("nick_name_dob", 0.10, 1e-9, "medium", "fn sn dob", "person"),
    _k("phon_name_dob", 0.20, 2e-9, "medium", "fn sn dob", "person"),
    _k("prefix_name_dob", 0.20, 3e-9, "medium", "fn sn dob", "person"),
    _k("name_ym", 0.10, 1e-8, "medium", "fn sn dob", "person"),
    _k("init_name_dob", 0.10, 2e-8, "low", "fi sn dob", "person", 0.8),
    _k("surname_dob", 0.20, 5e-8, "low", "sn dob", "person", 0.8),
    _k("edit_surname_dob", 0.10, 1.5e-7, "low", "sn dob", "person", 0.8),
    _k("forename_dob", 0.20, 2e-7, "low", "fn dob", "person", 0.8),
    _k("edit_forename_dob", 0.10, 6e-7, "low", "fn dob", "person", 0.8),
    _k("phon_name_yob", 0.10, 1e-6, "low", "fn sn", "person", 0.8),
    _k("full_name", 0.30, 5e-6, "low", "fn sn", "person", 0.8),
    # strong identifiers: each its own comparison; a mistyped id is rare
    _k("pnc", 0.95, 1e-10, "high", "pnc", "pnc"),
    _k("chi", 0.95, 1e-10, "high", "chi", "chi"),
    _k("ni", 0.95, 1e-10, "high", "ni", "ni"),
    # contact identifiers: people change them; households share a landline
    _k("phone", 0.50, 1e-7, "medium", "phone", "phone"),
    _k("email", 0.50, 1e-8, "medium", "email", "email"),
    # place: people move (m), households share addresses (see HOUSEHOLD)
    _k("address_forename", 0.60, 1e-8, "medium", "address fn", "place"),
    _k("postcode_name", 0.30, 1e-7, "medium", "postcode fn sn", "place", 0.6),
    _k("address_dob", 0.10, 1e-7, "medium", "address dob", "place", 0.6),
    _k("address_name", 0.10, 1e-6, "low", "address sn", "place", 0.6),
)

_COMPARISONS: dict[str, list[Kind]] = {}
for _kind in KINDS:
    _COMPARISONS.setdefault(_kind.comparison, []).append(_kind)

#: Weight of a family signature: m, a true pair whose forename (or DOB)
#: differs beyond every typo, nickname, phonetic and swapped form (1 in
#: 100); u, relatives showing that pattern among different people (1 in
#: 10**6). 13.3 bits: below the alert threshold on its own.
FAMILY_M, FAMILY_U = 0.01, 1e-6
_FORENAME_WITH_DOB = ("name_dob", "forename_dob", "init_name_dob")  # kinds that show a forename or initial
_WITH_DOB = ("name_dob", "surname_dob", "forename_dob")  # kinds that show a DOB


@dataclass(frozen=True)
class Verdict:
    score: float
    tier: str | None  # "high", "medium", "low" or None (below the alert threshold)


def _family(person: Kind | None, both: set[str]) -> bool:
    """True when the person comparison shows what relatives show (module doc)."""
    if person is None:
        return False
    f = person.fields
    if {"sn", "dob"} <= f and "fi" not in f:  # twins: forename or initial differs
        return any(k in both for k in _FORENAME_WITH_DOB)
    if "fi" not in f and "fn" not in f:
        return False
    if person.name == "init_name_dob":  # same initial, forename differs (Jack / James twins)
        return "forename_dob" in both or "name_dob" in both
    if "dob" not in f and "sn" in f:  # same-named relatives: DOB differs
        return any(k in both for k in _WITH_DOB)
    return False


@dataclass(frozen=True)
class Explanation:
    """Why a pattern scored as it did (kind names only, safe to log)."""

    score: float
    best: dict[str, str | None]  # comparison -> first shared kind, or None
    family: bool  # twins / same-named relatives signature
    household_counted: bool  # whether place and phone added evidence


def _analyse(agreed: set[str], kinds_a: set[str], kinds_b: set[str]):
    agreed = set(agreed)
    both = (set(kinds_a) & set(kinds_b)) | agreed
    score = 0.0
    best: dict[str, Kind | None] = {}
    firsts: dict[str, bool] = {}
    for comparison, kinds in _COMPARISONS.items():
        best[comparison] = None
        first = True
        for kind in kinds:
            if kind.name not in both:
                continue
            if kind.name in agreed:
                best[comparison] = kind
                firsts[comparison] = first
                break
            score += kind.disagree(first)
            first = False

    person = best["person"]
    family = _family(person, both)
    # Household evidence needs a forename (or initial) and DOB agreement.
    household_blind = family or not (person and {"fi", "dob"} <= person.fields)
    for comparison, kind in best.items():
        if kind is None:
            continue
        if comparison == "person" and family:
            score += math.log2(FAMILY_M / FAMILY_U)
        elif comparison in HOUSEHOLD and household_blind:
            continue  # housemates and relatives share these: no evidence here
        else:
            score += kind.agree(firsts[comparison])
    return round(score, 3), best, family, household_blind


def explain(agreed: set[str], kinds_a: set[str], kinds_b: set[str]) -> Explanation:
    """The score and the reading behind it, for reports and debugging."""
    score, best, family, blind = _analyse(agreed, kinds_a, kinds_b)
    return Explanation(score, {c: (k.name if k else None) for c, k in best.items()}, family, not blind)


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
    score, best, family, household_blind = _analyse(agreed, kinds_a, kinds_b)
    if score < threshold:
        return Verdict(score, None)
    if any(best[c] is not None for c in STRONG):
        return Verdict(score, "high")
    band = 2 if score >= max(HIGH_THRESHOLD, threshold) else 1 if score >= max(MEDIUM_THRESHOLD, threshold) else 0
    return Verdict(score, TIERS[min(band, _cap(best, family, household_blind))])


def _cap(best: dict[str, Kind | None], family: bool, household_blind: bool) -> int:
    """Highest tier the agreeing kinds may raise (see module doc)."""
    grades = []
    for comparison, kind in best.items():
        if kind is None:
            continue
        if comparison == "person" and family:
            grades.append(0)
        elif comparison in HOUSEHOLD and household_blind:
            continue
        else:
            grades.append(TIERS.index(kind.grade))
    if not grades:
        return 0
    top = max(grades)
    if top == 1 and sum(1 for g in grades if g >= 1) >= 2:
        top = 2  # two independent comparisons at medium grade
    return top
