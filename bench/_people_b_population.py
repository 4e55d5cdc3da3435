"""The true population behind make_people_b: who exists, where, and how life changed them.

Nothing here is a recording error. A Person is the truth (names, DOB, strong
identifiers, address and phone history); ``slots`` are the areas that know the
person, in time order; ``life`` says, per slot, which address, mobile and
e-mail the person had then and whether they were of no fixed abode. Hard
negatives (twins, father and son, siblings, spouses, unrelated people with a
common name and the same DOB) are planted as groups that share what such
people share in life.
"""

from __future__ import annotations

import datetime
import random
from collections import Counter
from dataclasses import dataclass, field

import _people_b_data as D
from _people_b_rates import RATES, Tally

REF_DATE = datetime.date(2025, 9, 30)  # "today" of the extract: fixed, so a seed always gives the same file
PNC_ALPHABET = "ZABCDEFGHJKLMNPQRTUVWXY"  # mod-23 check character, 1=A .. 0=Z without I, O, S
AGE_BANDS = [(16, 17, 1), (18, 24, 16), (25, 34, 33), (35, 44, 25), (45, 54, 15), (55, 64, 7), (65, 85, 3)]


@dataclass
class Address:
    number: str
    flat: str
    street: str
    town: str
    postcode: str
    area: str


@dataclass
class Household:
    hid: int
    address: Address
    landline: str = ""


@dataclass
class Life:
    """What was true of a person at the time of one record."""
    area: str
    household: Household
    mobile: str
    email: str
    nfa: bool
    events: list[str] = field(default_factory=list)


@dataclass
class Person:
    pid: str
    sex: str
    pool: str
    given: list[str]
    surname: str
    dob: datetime.date
    new_surname: str = ""
    change_at: int = 0
    alt_dobs: list[datetime.date] = field(default_factory=list)
    pnc: str = ""
    ni: str = ""
    chi: str = ""
    households: list[Household] = field(default_factory=list)
    mobiles: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    known_by_middle: bool = False
    nickname: str = ""
    monikers: list[str] = field(default_factory=list)
    false_names: list[tuple[str, str]] = field(default_factory=list)
    aliases_old: bool = False  # the old surname is kept as an alias
    english_name: str = ""
    religious: str = ""  # Singh / Kaur
    junior: bool = False
    slots: list[str] = field(default_factory=list)
    life: list[Life] = field(default_factory=list)
    group: dict = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)

    def surname_at(self, slot: int) -> str:
        return self.new_surname if self.new_surname and slot >= self.change_at else self.surname


def zipf_choice(rng: random.Random, items: list, s: float = 0.9):
    weights = _zipf_weights(len(items), s)
    return rng.choices(items, cum_weights=weights)[0]


_ZIPF_CACHE: dict = {}


def _zipf_weights(n: int, s: float) -> list[float]:
    key = (n, s)
    if key not in _ZIPF_CACHE:
        total, cum = 0.0, []
        for r in range(n):
            total += 1.0 / (r + 1) ** s
            cum.append(total)
        _ZIPF_CACHE[key] = cum
    return _ZIPF_CACHE[key]


class Numbers:
    """Unique numbers: drama-reserved phone ranges first, then overflow; NI, PNC, CHI."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()
        self.reserved_used = 0
        self.overflow_used = 0
        self._queues: dict[str, list[str]] = {}
        self._filled: Counter[str] = Counter()
        self._reserved = {D.MOBILE_PREFIXES[0]} | {p for a in D.AREAS for p in a[4]}

    def _phone(self, prefix: str, width: int) -> str | None:
        queue = self._queues.get(prefix)
        if queue is None:
            reserved = [f"{i:0{width}d}" for i in range(1000)] if prefix in self._reserved else []
            self.rng.shuffle(reserved)  # Ofcom's drama block: the first 1,000 of the range
            queue = self._queues[prefix] = reserved
        sep = " " if width == 4 else ""
        while queue:
            number = f"{prefix}{sep}{queue.pop()}"
            if number not in self.used:
                self.used.add(number)
                self.reserved_used += 1
                return number
        if self._filled[prefix] >= 0.8 * 10 ** width:
            return None  # keep random probing cheap: move on to the next prefix
        while True:
            number = f"{prefix}{sep}{self.rng.randrange(1000, 10 ** width):0{width}d}"
            if number not in self.used:
                self.used.add(number)
                self.overflow_used += 1
                self._filled[prefix] += 1
                return number

    def mobile(self) -> str:
        for prefix in D.MOBILE_PREFIXES:
            if number := self._phone(prefix, 5):
                return number
        raise RuntimeError("all mobile ranges are used up: generate fewer records")

    def landline(self, prefixes: list[str]) -> str:
        for prefix in prefixes:
            if number := self._phone(prefix, 4):
                return number
        return self.mobile()  # a household whose landline ranges are full gives a mobile instead

    def unique(self, make) -> str:
        for _ in range(10000):
            value = make()
            if value not in self.used:
                self.used.add(value)
                return value
        raise RuntimeError("identifier space exhausted")

    def pnc(self, dob: datetime.date) -> str:
        def make():
            first = min(REF_DATE.year, dob.year + self.rng.randint(14, 40))
            year = self.rng.randint(min(first, REF_DATE.year), REF_DATE.year) if first < REF_DATE.year else first
            serial = f"{self.rng.randint(1, 650000):07d}"
            return f"{year}/{serial}{PNC_ALPHABET[int(str(year)[2:] + serial) % 23]}"
        return self.unique(make)

    def ni(self) -> str:
        return self.unique(lambda: f"QQ{self.rng.randrange(10 ** 6):06d}{self.rng.choice('ABCD')}")

    def chi(self, dob: datetime.date, sex: str) -> str:
        def make():
            while True:
                body = f"{dob:%d%m%y}{self.rng.randrange(100):02d}{self.rng.choice('13579' if sex == 'M' else '02468')}"
                check = (11 - sum(int(d) * w for d, w in zip(body, range(10, 1, -1))) % 11) % 11
                if check != 10:
                    return body + str(check)
        return self.unique(make)


def random_dob(rng: random.Random) -> datetime.date:
    lo, hi, _ = rng.choices(AGE_BANDS, weights=[b[2] for b in AGE_BANDS])[0]
    age = rng.randint(lo, hi)
    birthday_this_year = REF_DATE - datetime.timedelta(days=rng.randrange(365))
    try:
        return birthday_this_year.replace(year=birthday_this_year.year - age)
    except ValueError:  # 29 February
        return birthday_this_year.replace(year=birthday_this_year.year - age, day=28)


def shift_years(d: datetime.date, years: int) -> datetime.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


class Places:
    """Invented addresses in an area's invented postcode areas."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.streets: dict[str, list[tuple[str, str, str]]] = {}
        self.areas = {a[0]: a for a in D.AREAS}

    def _streets(self, area: str):
        if area not in self.streets:
            rng = random.Random(f"streets:{area}")
            _, _, towns, pc_areas, _ = self.areas[area]
            streets = []
            for _ in range(220):
                name = rng.choice(D.STREET_HEADS) + rng.choice(D.STREET_TAILS)
                kind = rng.choices([t for t, _ in D.STREET_TYPES], weights=[w for _, w in D.STREET_TYPES])[0]
                town_i = min(int(rng.expovariate(1.2)), len(towns) - 1)
                district = rng.randint(1, 24) if town_i == 0 else 25 + town_i * 5 + rng.randint(0, 4)
                outward = f"{pc_areas[0 if town_i < 2 else 1]}{district}"
                streets.append((f"{name.capitalize()} {kind}", towns[town_i], outward, str(rng.randint(1, 9))))
            self.streets[area] = streets
        return self.streets[area]

    def address(self, area: str) -> Address:
        street, town, outward, sector = self.rng.choice(self._streets(area))
        inward = sector + "".join(self.rng.choice(D.INWARD_LETTERS) for _ in range(2))
        flat = str(self.rng.randint(1, 24)) if self.rng.random() < 0.22 else ""
        number = str(self.rng.randint(1, 180))
        if not flat and self.rng.random() < 0.04:
            number += self.rng.choice("ab")
        return Address(number, flat, street, town, f"{outward} {inward}", area)


def ascii_fold(text: str) -> str:
    import unicodedata
    text = text.translate(_FOLD)
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


_FOLD = str.maketrans({"ł": "l", "Ł": "L", "ı": "i", "İ": "I", "ß": "ss", "ø": "o", "Ø": "O"})


class Builder:
    """Builds the population: planted hard-negative pairs first, then everyone else, until
    every area holds exactly ``per_area`` record slots."""

    def __init__(self, seed: int, area_ids: list[str], per_area: int):
        self.rng = random.Random(f"{seed}:population")
        self.tally = Tally(self.rng)
        self.numbers = Numbers(random.Random(f"{seed}:numbers"))
        self.places = Places(random.Random(f"{seed}:places"))
        self.cap = {a: per_area for a in area_ids}
        self.info = {a[0]: a for a in D.AREAS}
        self.persons: list[Person] = []
        self.groups: list[dict] = []
        self._pids: set[str] = set()
        self._hid = 0

    # ---------------------------------------------------------- areas and slots
    def pick_area(self, exclude=()) -> str:
        options = [a for a, c in self.cap.items() if c > 0 and a not in exclude]
        options = options or [a for a, c in self.cap.items() if c > 0]
        return self.rng.choices(options, weights=[self.cap[a] for a in options])[0]

    def _take_slots(self, p: Person, first: str) -> None:
        if self.cap[first] <= 0:
            first = self.pick_area()
        p.slots = [first]
        self.cap[first] -= 1
        others = [a for a, c in self.cap.items() if c > 0 and a != first]
        if others and self.tally.hit("person_multi_area", p.tags):
            extra = 2 if len(others) >= 2 and self.tally.hit("person_three_areas", p.tags) else 1
            for _ in range(extra):
                options = [a for a, c in self.cap.items() if c > 0 and a not in p.slots]
                if options:
                    area = self.rng.choices(options, weights=[self.cap[a] for a in options])[0]
                    p.slots.append(area)
                    self.cap[area] -= 1
        dup_options = [i for i, a in enumerate(p.slots) if self.cap[a] > 0]
        if dup_options and self.tally.hit("person_in_area_duplicate", p.tags):
            i = self.rng.choice(dup_options)
            p.slots.insert(i + 1, p.slots[i])
            self.cap[p.slots[i]] -= 1

    # ---------------------------------------------------------- people
    def _pid(self) -> str:
        while True:
            pid = f"P{self.rng.getrandbits(40):010X}"
            if pid not in self._pids:
                self._pids.add(pid)
                return pid

    def _pool(self) -> str:
        return self.rng.choices(list(D.POOL_SHARES), weights=list(D.POOL_SHARES.values()))[0]

    def household(self, area: str, landline: float | None = None) -> Household:
        self._hid += 1
        has_line = self.rng.random() < landline if landline is not None else self.tally.hit("household_landline")
        prefixes = list(self.info[area][4])
        self.rng.shuffle(prefixes)
        line = self.numbers.landline(prefixes) if has_line else ""
        return Household(self._hid, self.places.address(area), line)

    def person(self, pool: str, sex: str, dob: datetime.date, **family) -> Person:
        from _people_b_naming import birth_name
        p = Person(pid=self._pid(), sex=sex, pool=pool, given=[], surname="", dob=dob)
        name = birth_name(self.rng, self.tally, pool, sex, dob, p.tags, **family)
        p.given, p.surname = name["given"], name["surname"]
        p.religious, p.english_name, p.known_by_middle = name["religious"], name["english"], name["known_by_middle"]
        p.group = {"family": name["family"], "father": name["father"]}
        self.persons.append(p)
        return p

    def settle(self, p: Person, first_area: str, home: Household | None = None) -> None:
        """Areas, identifiers, aliases and life events of a person whose name is set."""
        from _people_b_naming import moniker
        self._take_slots(p, first_area)
        t, rng = self.tally, self.rng
        if t.hit("person_has_pnc", p.tags):
            p.pnc = self.numbers.pnc(p.dob)
        if t.hit("person_has_ni", p.tags):
            p.ni = self.numbers.ni()
        if self.info[first_area][1] == "scotland" or t.hit("person_scottish_born", p.tags):
            p.chi = self.numbers.chi(p.dob, p.sex)
        used = p.given[1] if p.known_by_middle else p.given[0]
        if used in D.NICKNAMES and t.hit("person_nickname_habit", p.tags):
            p.nickname = rng.choice(D.NICKNAMES[used])
        if p.sex == "F" and p.pool not in ("somali", "sikh", "south_asian_muslim", "arabic", "chinese") \
                and not p.new_surname and t.hit("person_surname_change", p.tags):
            from _people_b_naming import family_name, gendered
            spouse_pool = p.pool if rng.random() < 0.7 else "british"
            p.new_surname = gendered(family_name(rng, spouse_pool), "F", spouse_pool)
            p.change_at = rng.randrange(len(p.slots))
        if p.new_surname and t.hit("person_old_surname_alias", p.tags):
            p.aliases_old = True
        if t.hit("person_moniker" if p.sex == "M" else "person_moniker_female", p.tags):
            p.monikers.append(moniker(rng, p.sex, p.surname))
        if t.hit("person_false_name", p.tags):
            from _people_b_naming import brit_surname, forename
            fake_first = forename(rng, p.pool, p.sex, p.dob)
            fake_last = p.surname if rng.random() < 0.5 else brit_surname(rng)
            p.false_names.append((fake_first, fake_last))
        if t.hit("person_alias_dob", p.tags):
            p.alt_dobs = [self._alt_dob(p.dob) for _ in range(1 + (rng.random() < 0.2))]
        self._live(p, home or self.household(first_area))

    def _alt_dob(self, dob: datetime.date) -> datetime.date:
        rng = self.rng
        kind = rng.random()
        if kind < 0.4:
            return shift_years(dob, rng.choice((-2, -1, 1, 2)))
        if kind < 0.6 and dob.day <= 12 and dob.day != dob.month:
            return dob.replace(day=dob.month, month=dob.day)
        return dob + datetime.timedelta(days=rng.choice((-3, -2, -1, 1, 2, 3, 31, -31)))

    def _live(self, p: Person, home: Household) -> None:
        from _people_b_mail import email_address
        t, rng = self.tally, self.rng
        p.households = [home]
        if t.hit("person_has_mobile", p.tags):
            p.mobiles = [self.numbers.mobile()]
        if t.hit("person_has_email", p.tags):
            p.emails = [email_address(rng, p, self.numbers)]
        household, mobile, email = home, (p.mobiles or [""])[0], (p.emails or [""])[0]
        for i, area in enumerate(p.slots):
            events = []
            if i:
                same = area == p.slots[i - 1]
                if t.hit("record_moved_same_area" if same else "record_moved", events):
                    household = self.household(area)
                    p.households.append(household)
                if mobile and t.hit("record_mobile_changed", events):
                    mobile = self.numbers.mobile()
                    p.mobiles.append(mobile)
                if email and t.hit("record_email_changed", events):
                    email = email_address(rng, p, self.numbers)
                    p.emails.append(email)
            nfa = t.hit("record_nfa", events)
            p.life.append(Life(area, household, mobile, email, nfa, events))
