"""The evidence behind an alert, for people: what agreed, and what each agreement weighed.

This is the adapter between what the node stores for an alert and what the
console's match page draws (a waterfall, Splink's chart of how each field's
agreement moved the score). The node's inbox stores, per alert, only the
agreeing key kinds, the tier and the score. The shared scoring model
(``fedalert.scoring.explain``) reads the kinds back into one
agreement level per field and gives each level its weight (log2 m/u, in
bits). What the node cannot see (the other record's kinds, so the fields it
lacks or that disagree) is the difference between the alert's score and
the sum of those weights; it is shown as one bar, "evidence the matcher
weighed that this area cannot see".

When alerts carry each field's level and weight under the federation's
model, :func:`evidence` reads them instead and the last bar goes. Nothing
here ever holds a value of the other area's record.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

_FIELD_WORDS = {"fn": "Forename", "sn": "Surname", "dob": "Date of birth", "address": "Address",
                "postcode": "Postcode", "pnc": "PNC id", "chi": "CHI number", "ni": "NI number",
                "phone": "Phone", "email": "E-mail"}
_LEVEL_WORDS = {"exact": "same", "nick": "nickname", "edit": "one typo", "phon": "sounds alike",
                "prefix": "first letters", "initial": "initial only", "swap": "day and month swapped",
                "ym": "year and month", "year": "year only", "differ": "differs"}


@dataclass(frozen=True)
class Step:
    label: str  # "Surname"
    level: str  # "same", "one typo", ...
    weight: float  # bits added (negative: taken away)


@dataclass(frozen=True)
class Evidence:
    steps: tuple[Step, ...]
    unseen: float  # score minus the steps: what the matcher weighed that this area cannot see
    score: float
    threshold: float
    words: str  # the same plain words as `fedalert node alerts`


def evidence(kinds: list[str], score: float) -> Evidence:
    """Steps of the waterfall from the agreeing kinds (see the module doc)."""
    from fedalert.scoring import ALERT_THRESHOLD, IDENTIFIER_MU, LEVELS, describe, explain

    agreed = set(kinds)
    ex = explain(agreed, agreed, agreed)
    steps: list[Step] = []
    if ex.family:
        steps.append(Step("Family pattern", "twins or a same-named relative at one address", ex.score))
    else:
        for f in ("fn", "sn", "dob", "address", "postcode"):
            level = ex.levels.get(f)
            if level is None or (f in ("address", "postcode") and not ex.household_counted):
                continue
            steps.append(Step(_FIELD_WORDS[f], _LEVEL_WORDS.get(level, level), LEVELS[(f, level)].weight))
    for name in ("pnc", "chi", "ni", "phone", "email"):
        if name not in agreed or name not in IDENTIFIER_MU or (name == "phone" and not ex.household_counted):
            continue
        m, u = IDENTIFIER_MU[name]
        steps.append(Step(_FIELD_WORDS[name], "same", math.log2(m / u)))
    total = sum(s.weight for s in steps)
    return Evidence(tuple(steps), round(score - total, 2), score, ALERT_THRESHOLD, describe(agreed))
