"""Key kinds: the vocabulary both roles share.

A node builds match keys of these kinds (node/matchkeys.py) and sends each
token with its kind in clear; the matcher scores the kinds two records share
(fedalert/scoring.py). This is the one list of kinds. For each it says which
field agreement levels a shared token shows (``shows``) and the best tier it
may raise on its own (``grade``). Neither role's package defines kinds of
its own; both import them from here.

Fields: ``fn`` forename, ``sn`` surname, ``dob`` date of birth, ``address``
(first line), ``postcode``, and the identifiers ``pnc``, ``chi``, ``ni``,
``phone``, ``email``. Levels: ``exact``, ``nick`` (nickname), ``edit`` (one
typo), ``phon`` (sounds alike), ``prefix`` (first letters), ``initial``,
``swap`` (day and month swapped), ``ym`` (year and month), ``year``.
docs/MATCHING.md explains how each kind is built.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ALL_KINDS", "BY_NAME", "KINDS", "TIERS", "Kind"]

#: Tiers, weakest first. A kind's grade is one of them.
TIERS = ("low", "medium", "high")

# Key kinds, strongest evidence first (the order KINDS keeps).
NAME_DOB = "name_dob"  # forename + surname (whole and each part) + DOB
NAME_SWAP_DOB = "name_swap_dob"  # forename and surname in either order + DOB
NAME_DOB_SWAP = "name_dob_swap"  # names + DOB with day and month in either order
EDIT_FORENAME = "edit_forename"  # names + DOB, forename within one edit (typo)
EDIT_SURNAME = "edit_surname"  # names + DOB, surname within one edit
EDIT_DOB = "edit_dob"  # names + DOB, one DOB digit different or two adjacent digits transposed
NICK_NAME_DOB = "nick_name_dob"  # canonical forename for a nickname + surname + DOB
PHON_NAME_DOB = "phon_name_dob"  # Soundex / Metaphone / NYSIIS of both names + DOB
PREFIX_NAME_DOB = "prefix_name_dob"  # first three letters of both names (either order) + DOB
NAME_YM = "name_ym"  # forename + surname + year and month of birth
INIT_NAME_DOB = "init_name_dob"  # forename initial + surname + DOB
SURNAME_DOB = "surname_dob"  # surname + DOB (twins share it: scored low)
EDIT_SURNAME_DOB = "edit_surname_dob"  # surname within one edit + DOB (no forename on one record)
FORENAME_DOB = "forename_dob"  # forename + DOB (changed surname)
EDIT_FORENAME_DOB = "edit_forename_dob"  # forename within one edit + DOB
PHON_NAME_YOB = "phon_name_yob"  # Metaphone of both names + year of birth (weak)
FULL_NAME = "full_name"  # forename + whole surname, no DOB (weak; same-named relatives share it)
PNC = "pnc"
CHI = "chi"
NI = "ni"
PHONE = "phone"
EMAIL = "email"
ADDRESS_FORENAME = "address_forename"  # first address line + forename
POSTCODE_NAME = "postcode_name"  # postcode + forename + surname
ADDRESS_DOB = "address_dob"  # first address line + DOB
ADDRESS_NAME = "address_name"  # first address line + surname


@dataclass(frozen=True)
class Kind:
    """What a key kind shows when two records share it, and the best tier it may raise."""

    name: str
    grade: str  # best tier this kind can raise on its own: high, medium or low
    shows: tuple[tuple[str, str], ...]  # (field, level) pairs implied by a shared token

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(f for f, _ in self.shows)


def _k(name: str, grade: str, shows: str) -> Kind:
    pairs = tuple(tuple(part.split("=")) for part in shows.split())
    return Kind(name, grade, pairs)  # type: ignore[arg-type]


#: Every kind, strongest evidence first: scoring reads the first shared kind
#: of a comparison as its strongest, so the order is part of the model.
KINDS: tuple[Kind, ...] = (
    _k(NAME_DOB, "high", "fn=exact sn=exact dob=exact"),
    _k(NAME_SWAP_DOB, "high", "fn=exact sn=exact dob=exact"),
    _k(NAME_DOB_SWAP, "high", "fn=exact sn=exact dob=swap"),
    _k(EDIT_FORENAME, "high", "fn=edit sn=exact dob=exact"),
    _k(EDIT_SURNAME, "high", "fn=exact sn=edit dob=exact"),
    _k(EDIT_DOB, "medium", "fn=exact sn=exact dob=edit"),
    _k(NICK_NAME_DOB, "medium", "fn=nick sn=exact dob=exact"),
    _k(PHON_NAME_DOB, "medium", "fn=phon sn=phon dob=exact"),
    _k(PREFIX_NAME_DOB, "medium", "fn=prefix sn=prefix dob=exact"),
    _k(NAME_YM, "medium", "fn=exact sn=exact dob=ym"),
    _k(INIT_NAME_DOB, "low", "fn=initial sn=exact dob=exact"),
    _k(SURNAME_DOB, "low", "sn=exact dob=exact"),
    _k(EDIT_SURNAME_DOB, "low", "sn=edit dob=exact"),
    _k(FORENAME_DOB, "low", "fn=exact dob=exact"),
    _k(EDIT_FORENAME_DOB, "low", "fn=edit dob=exact"),
    _k(PHON_NAME_YOB, "low", "fn=phon sn=phon dob=year"),
    _k(FULL_NAME, "low", "fn=exact sn=exact"),
    # strong identifiers: each its own comparison
    _k(PNC, "high", "pnc=exact"),
    _k(CHI, "high", "chi=exact"),
    _k(NI, "high", "ni=exact"),
    # contact identifiers: people change them; households share a landline
    _k(PHONE, "medium", "phone=exact"),
    _k(EMAIL, "medium", "email=exact"),
    # place
    _k(ADDRESS_FORENAME, "medium", "address=exact fn=exact"),
    _k(POSTCODE_NAME, "medium", "postcode=exact fn=exact sn=exact"),
    _k(ADDRESS_DOB, "medium", "address=exact dob=exact"),
    _k(ADDRESS_NAME, "low", "address=exact sn=exact"),
)
#: The kind names, in KINDS order: the kinds a node builds.
ALL_KINDS: tuple[str, ...] = tuple(k.name for k in KINDS)
BY_NAME: dict[str, Kind] = {k.name: k for k in KINDS}
