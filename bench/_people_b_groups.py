"""Planted hard negatives and the fill of make_people_b's population.

Pairs of different people who share much of an identity, as families do:

- twins: same DOB, same surname, same home (and landline), different forenames
  (a third share an initial);
- father and son: same forename and surname, often the same middle name, the
  same home; the son sometimes recorded as "Jnr";
- siblings: same surname and home, DOBs 1-10 years apart;
- spouses: the wife took the husband's surname (80%), same home and landline;
- unrelated people with a very common name (John Smith, Mohammed Khan) born on
  the same day, living apart.

Each pair is placed in two different areas with probability group_cross_area
(a pair inside one area does not test cross-area matching). The number of
pairs of each kind is its rate times the expected number of persons.
"""

from __future__ import annotations

import datetime

import _people_b_data as D
from _people_b_naming import forename, gendered
from _people_b_population import REF_DATE, Builder, Person, random_dob, shift_years
from _people_b_rates import RATES

_FAMILY_POOLS = ["british", "irish", "polish", "caribbean", "west_african", "south_asian_muslim", "sikh", "somali"]
_FATHER_SON_POOLS = ["british", "irish", "polish", "caribbean", "west_african", "hindu"]
PAIR_KINDS = ("twins", "father_son", "siblings", "spouses", "common_name_same_dob")


def _family_pool(b: Builder, pools: list[str]) -> str:
    pool = b._pool()
    return pool if pool in pools else "british"


def _age(d: datetime.date) -> int:
    return REF_DATE.year - d.year - ((REF_DATE.month, REF_DATE.day) < (d.month, d.day))


def _areas(b: Builder) -> tuple[str, str]:
    first = b.pick_area()
    second = first
    if len([a for a, c in b.cap.items() if c > 0]) > 1 and b.tally.hit("group_cross_area"):
        second = b.pick_area(exclude={first})
    return first, second


def _register(b: Builder, kind: str, pair: list[Person]) -> None:
    gid = f"G{len(b.groups) + 1:05d}"
    b.groups.append({"type": kind, "gid": gid, "persons": [p.pid for p in pair]})
    for role, p, mate in zip(("a", "b"), pair, reversed(pair)):
        p.group.update({"type": kind, "gid": gid, "role": role, "mate": mate.pid})


def _place(b: Builder, kind: str, pair: list[Person], areas: tuple[str, str], landline: float,
           share_home: float) -> None:
    """Register the pair and settle both: the first at the family home, the second there too
    with probability ``share_home`` (its first record may still be in the other area)."""
    home = b.household(areas[0], landline=landline)
    _register(b, kind, pair)
    b.settle(pair[0], areas[0], home)
    b.settle(pair[1], areas[1], home if b.rng.random() < share_home else None)


def _sibling(b: Builder, first: Person, sex: str, dob: datetime.date) -> Person:
    fam = first.group
    kin = b.person(first.pool, sex, dob, family=fam["family"], father=fam["father"])
    if first.pool != "somali":
        kin.surname = first.surname if sex == first.sex else gendered(fam["family"], sex, first.pool, married=False)
    return kin


def twins(b: Builder) -> None:
    a1, a2 = _areas(b)
    pool, dob = _family_pool(b, _FAMILY_POOLS), random_dob(b.rng)
    while _age(dob) < 16:
        dob = random_dob(b.rng)
    sex1 = "M" if b.tally.hit("person_male") else "F"
    sex2 = sex1 if b.rng.random() < 0.65 else ("F" if sex1 == "M" else "M")
    one = b.person(pool, sex1, dob)
    two = _sibling(b, one, sex2, dob)
    alliterative = b.rng.random() < 0.33
    for _ in range(40):  # twins never share a forename; a third share an initial
        if two.given[0] != one.given[0] and (not alliterative or two.given[0][0] == one.given[0][0]):
            break
        two.given[0] = forename(b.rng, pool, sex2, dob)
    if two.given[0] == one.given[0]:
        two.given[0] = forename(b.rng, "british", sex2, dob) if one.given[0] != "Daniel" else "Samuel"
    _place(b, "twins", [one, two], (a1, a2), landline=0.5, share_home=1.0)


def father_son(b: Builder) -> None:
    a1, a2 = _areas(b)
    pool = _family_pool(b, _FATHER_SON_POOLS)
    son_dob = random_dob(b.rng)
    while not 16 <= _age(son_dob) <= 50:
        son_dob = random_dob(b.rng)
    father_dob = shift_years(son_dob, -b.rng.randint(18, 35)) - datetime.timedelta(days=b.rng.randrange(200))
    father = b.person(pool, "M", father_dob)
    son = _sibling(b, father, "M", son_dob)
    son.given = [father.given[0]] + (father.given[1:2] if len(father.given) > 1 and b.rng.random() < 0.3
                                      else son.given[1:])
    son.known_by_middle = son.known_by_middle and len(son.given) > 1
    son.junior = True
    _place(b, "father_son", [father, son], (a1, a2), landline=0.5, share_home=0.7)


def siblings(b: Builder) -> None:
    a1, a2 = _areas(b)
    pool = _family_pool(b, _FAMILY_POOLS)
    dob1 = random_dob(b.rng)
    gap = b.rng.randint(1, 10) * (1 if b.rng.random() < 0.5 else -1)
    dob2 = shift_years(dob1, gap) + datetime.timedelta(days=b.rng.randint(-150, 150))
    if _age(dob2) < 16 or _age(dob2) > 85:
        dob2 = shift_years(dob1, -gap)
    sexes = ["M" if b.tally.hit("person_male") else "F" for _ in range(2)]
    one = b.person(pool, sexes[0], dob1)
    two = _sibling(b, one, sexes[1], dob2)
    while two.given[0] == one.given[0]:
        two.given[0] = forename(b.rng, pool, sexes[1], dob2)
    _place(b, "siblings", [one, two], (a1, a2), landline=0.5, share_home=0.6)


def spouses(b: Builder) -> None:
    a1, a2 = _areas(b)
    pool = _family_pool(b, _FAMILY_POOLS)
    husband_dob = random_dob(b.rng)
    while _age(husband_dob) < 18:
        husband_dob = random_dob(b.rng)
    wife_dob = shift_years(husband_dob, round(b.rng.gauss(2, 4))) + datetime.timedelta(days=b.rng.randrange(365))
    if not 16 <= _age(wife_dob) <= 85:
        wife_dob = husband_dob
    husband = b.person(pool, "M", husband_dob)
    wife = b.person(pool if b.rng.random() < 0.85 else "british", "F", wife_dob)
    if pool not in ("somali", "sikh", "south_asian_muslim") and b.rng.random() < 0.8:
        wife.new_surname = gendered(husband.group["family"], "F", pool) if pool in ("polish", "lithuanian") \
            else husband.surname
        wife.change_at = 0
        wife.tags.append("spouse_took_surname")
    elif pool == "sikh":
        wife.surname = gendered(husband.group["family"], "F", pool)
    _place(b, "spouses", [husband, wife], (a1, a2), landline=1.0, share_home=0.9)


def common_name_same_dob(b: Builder) -> None:
    a1, a2 = _areas(b)
    dob = random_dob(b.rng)
    while _age(dob) < 18:
        dob = random_dob(b.rng)
    if b.rng.random() < 0.7:
        pool, first = "british", b.rng.choice((D.BRIT_MALE_YOUNG if dob.year >= 1980 else D.BRIT_MALE_OLD)[:6])
        last = b.rng.choice(D.BRIT_SURNAMES[:5])
    else:
        pool, first, last = "south_asian_muslim", b.rng.choice(D.SAM_MALE[:6]), b.rng.choice(D.SAM_SURNAMES[:5])
    pair = []
    for _ in range(2):
        p = b.person(pool, "M", dob)
        p.given = [first] + ([] if p.given[0] == "Mohammed" else p.given[1:])
        p.known_by_middle = p.known_by_middle and len(p.given) > 1
        p.surname = last
        pair.append(p)
    _register(b, "common_name_same_dob", pair)
    b.settle(pair[0], a1)
    b.settle(pair[1], a2)


def build(seed: int, area_ids: list[str], per_area: int) -> Builder:
    """The whole population: planted pairs, then ordinary people until every slot is taken."""
    b = Builder(seed, area_ids, per_area)
    expected_persons = round(len(area_ids) * per_area / 1.2)
    planters = {"twins": twins, "father_son": father_son, "siblings": siblings, "spouses": spouses,
                "common_name_same_dob": common_name_same_dob}
    for kind in PAIR_KINDS:
        rate_name = f"group_{kind}"
        pairs = round(RATES[rate_name].p * expected_persons)
        b.tally.record(rate_name, expected_persons, pairs)
        for _ in range(pairs):
            if sum(b.cap.values()) >= 8:
                planters[kind](b)
    while sum(b.cap.values()) > 0:
        first = b.pick_area()
        sex = "M" if b.tally.hit("person_male") else "F"
        p = b.person(b._pool(), sex, random_dob(b.rng))
        b.settle(p, first)
    return b
