"""The identity of one record as imported: names, dates of birth, identifiers.

Values are raw strings as the area typed them; fedalert.node.normalise turns
them into comparable forms and fedalert.node.matchkeys into match keys.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Name:
    """One name of a person (primary or alias), raw as imported."""

    forename: str
    middle_names: str
    surname: str


@dataclass
class Identity:
    """Everything the node may build match keys from, for one record."""

    names: list[Name] = field(default_factory=list)  # primary first, then aliases
    dobs: list[datetime.date] = field(default_factory=list)  # primary DOB first, then alias DOBs
    pnc_id: str = ""
    chi_number: str = ""
    ni_number: str = ""
    phone: str = ""
    email: str = ""
    postcode: str = ""
    address: str = ""
    # One-word aliases ("Tiny") and the monikers column, raw as imported: evidence, never a Name
    # (normalise.normalise_moniker compares them).
    monikers: list[str] = field(default_factory=list)
    # The export said "no fixed abode" (NFA) where the postcode or address would be; both are then blank.
    no_fixed_abode: bool = False
