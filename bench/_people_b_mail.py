"""E-mail addresses for make_people_b's people, in the shapes people choose.

Local parts are built from the person's names, nickname, moniker or birth
year; domains are webmail names under the reserved TLD .example (RFC 2606),
so no address can reach a real mailbox.
"""

from __future__ import annotations

import random

import _people_b_data as D


def email_address(rng: random.Random, p, numbers) -> str:
    from _people_b_population import ascii_fold
    first = ascii_fold(p.nickname or (p.given[1] if p.known_by_middle else p.given[0])).lower().replace(" ", "")
    last = ascii_fold(p.surname).lower().replace(" ", "").replace("'", "").replace("-", "")
    yy, nn = f"{p.dob.year % 100:02d}", str(rng.randint(1, 999))
    shapes = [
        (f"{first}.{last}", 20), (f"{first}{last}", 12), (f"{first}{last}{yy}", 12), (f"{first}.{last}{nn}", 8),
        (f"{first[0]}{last}", 8), (f"{first}_{last}", 5), (f"{first}{p.dob.year}", 6), (f"{last}{first[0]}{nn}", 4),
        (f"{first}{nn}", 8), (f"{(p.monikers or [first])[0].lower().replace(' ', '')}{yy}", 4),
        (f"{first}.{last[0]}{nn}", 4), (f"x{first}x{nn}", 2), (f"{last}{yy}", 3),
    ]
    domains = [d for d, _ in D.EMAIL_DOMAINS]
    weights = [w for _, w in D.EMAIL_DOMAINS]
    for _ in range(50):
        local = rng.choices([s for s, _ in shapes], weights=[w for _, w in shapes])[0]
        address = f"{local}@{rng.choices(domains, weights=weights)[0]}"
        if address not in numbers.used:
            numbers.used.add(address)
            return address
        shapes = [(f"{s}{rng.randint(1, 99)}", w) for s, w in shapes]
    raise RuntimeError("could not make a unique e-mail address")
