"""Generate UK-style synthetic areas with realistic record errors, plus truth.

    python bench/make_people.py --out DIR [--per-area 20000] [--areas 3] [--seed 1]

writes DIR/<area>.csv (canonical CSV, one per area) and DIR/truth.csv
(record_id, person_id). Everyone is invented (see bench/_people_data.py).

The population lives in households (shared surname, address, postcode and
sometimes a landline). Some households hold twins (same DOB, different
forename) and same-named parent and child ("junior", different DOB);
relatives are often known to different areas under the family address, so
they are the hard negatives. About one record in seven is a person who also
has a record in another area. Every record, first or repeat, is a messy
rendering of its person: nicknames, typos, Mc/Mac and O' spellings,
diacritics kept or dropped, one part of a double-barrelled surname, a
changed surname (with or without the old name as alias), forename and
surname swapped, day and month of birth swapped, a DOB digit typo, an
initial for the forename, aliases and alias DOBs, missing fields, and dates
in several written forms. Record ids are random and carry no meaning.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _people_data as D  # noqa: E402

COLUMNS = ("record_id", "forename", "middle_names", "surname", "date_of_birth", "aliases", "alias_dobs",
           "pnc_id", "chi_number", "ni_number", "phone", "email", "postcode", "address")
AREA_NAMES = ("north", "south", "west", "east", "central", "coast", "hills", "vale")
TODAY = datetime.date(2026, 1, 1)


@dataclass
class Household:
    surname: str
    address: str
    postcode: str
    landline: str = ""


@dataclass
class Person:
    pid: str
    sex: str
    forename: str
    middle: str
    surname: str  # canonical key (lower case, display via _display_surname)
    dob: datetime.date
    home: Household
    area: str
    pnc: str = ""
    ni: str = ""
    chi: str = ""
    mobile: str = ""
    email: str = ""
    aliases: list[str] = field(default_factory=list)


class _Pool:
    """Unique identifiers drawn without replacement."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.phones = [f"{p}{n:03d}" for p, _ in D.DRAMA_RANGES for n in range(1000)]
        rng.shuffle(self.phones)
        self.used: set[str] = set()

    def phone(self) -> str:
        return self.phones.pop() if self.phones else ""

    def unique(self, make) -> str:
        for _ in range(100):
            value = make()
            if value not in self.used:
                self.used.add(value)
                return value
        return ""


def _pnc(rng: random.Random) -> str:
    year = rng.randint(1990, 2025)
    serial = rng.randint(1, 9_999_999)
    check = "ZABCDEFGHJKLMNPQRTUVWXY"[int(f"{year % 100:02d}{serial:07d}") % 23]
    return f"{year}/{serial:07d}{check}"


def _chi(rng: random.Random, dob: datetime.date) -> str:
    while True:
        body = f"{dob.day:02d}{dob.month:02d}{dob.year % 100:02d}{rng.randint(0, 999):03d}"
        total = sum(int(d) * w for d, w in zip(body, range(10, 1, -1)))
        check = (11 - total % 11) % 11
        if check != 10:
            return body + str(check)


def _ni(rng: random.Random) -> str:
    # QQ is the documented example prefix: never issued to a real person.
    return f"QQ{rng.randint(0, 999_999):06d}{rng.choice('ABCD')}"


def _surname(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.55:
        return rng.choices(D.SURNAMES, weights=[1 / (i + 8) for i in range(len(D.SURNAMES))])[0]
    if r < 0.58:
        return rng.choice(D.DIACRITIC_SURNAMES)
    if r < 0.62:
        return f"{_surname_plain(rng)}-{_surname_plain(rng)}"
    return rng.choice(D.SYLLABLES_A) + rng.choice(D.SYLLABLES_B) + rng.choice(["", "", "e", "s", "er"])


def _surname_plain(rng: random.Random) -> str:
    return rng.choice(D.SURNAMES[:120])


def _forename(rng: random.Random, sex: str) -> str:
    names = D.FEMALE if sex == "F" else D.MALE
    return rng.choices(names, weights=[1 / (i + 10) for i in range(len(names))])[0]


def _household(rng: random.Random, pool: _Pool) -> Household:
    street = f"{rng.choice(D.STREETS_A).title()} {rng.choice(D.STREETS_B).title()}"
    number = rng.randint(1, 240)
    flat = f"Flat {rng.randint(1, 12)}, " if rng.random() < 0.1 else ""
    town = rng.choice(D.TOWNS).title()
    postcode = (f"{rng.choice('QVX')}{rng.choice('ABCDEFGHJKLMNOPRSTUWY')}{rng.randint(1, 99)} "
                f"{rng.randint(0, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}")
    landline = pool.phone() if rng.random() < 0.15 else ""
    return Household(_surname(rng), f"{flat}{number} {street}, {town}", postcode, landline)


def _dob(rng: random.Random, lo: int, hi: int) -> datetime.date:
    start = datetime.date(lo, 1, 1).toordinal()
    return datetime.date.fromordinal(rng.randint(start, datetime.date(hi, 12, 31).toordinal()))


def make_population(n: int, areas: list[str], rng: random.Random) -> list[Person]:
    pool = _Pool(rng)
    people: list[Person] = []
    while len(people) < n:
        home = _household(rng, pool)
        area = rng.choice(areas)
        apart = rng.random() < 0.35  # relatives known to different areas
        size = rng.choices([1, 2, 3, 4], weights=[45, 25, 18, 12])[0]
        parent_dob = _dob(rng, 1950, 1985)
        members: list[tuple[str, str, datetime.date]] = []
        for i in range(size):
            sex = rng.choice("FM")
            dob = parent_dob if i == 0 else _dob(rng, parent_dob.year + 18, min(parent_dob.year + 45, 2008))
            members.append((sex, _forename(rng, sex), dob))
        if size >= 2 and rng.random() < 0.08:  # twins: same DOB, different forename
            sex = rng.choice("FM")
            twin_dob = members[-1][2]
            name = _forename(rng, sex)
            while name == members[-1][1]:
                name = _forename(rng, sex)
            members.append((sex, name, twin_dob))
        if rng.random() < 0.05:  # a "junior": same forename as the parent
            sex, name, _ = members[0]
            members.append((sex, name, _dob(rng, parent_dob.year + 18, min(parent_dob.year + 45, 2008))))
        for sex, forename, dob in members:
            person = Person(
                pid=f"p{rng.getrandbits(40):010x}", sex=sex, forename=forename,
                middle=_forename(rng, sex) if rng.random() < 0.4 else "",
                surname=home.surname, dob=dob, home=home, area=rng.choice(areas) if apart else area,
            )
            adult = (TODAY - dob).days > 18 * 365
            person.pnc = pool.unique(lambda: _pnc(rng)) if adult and rng.random() < 0.5 else ""
            person.ni = pool.unique(lambda: _ni(rng)) if adult and rng.random() < 0.6 else ""
            person.chi = pool.unique(lambda: _chi(rng, dob)) if rng.random() < 0.15 else ""
            person.mobile = pool.phone() if rng.random() < 0.45 else ""
            if rng.random() < 0.35:
                person.email = f"{forename}.{_ascii(home.surname)}.{rng.randint(1, 9999)}@example.{rng.choice(['org', 'com', 'net'])}"
            if rng.random() < 0.06:
                person.aliases.append(f"{_forename(rng, sex).title()} {_surname(rng).title()}")
            people.append(person)
    return people[:n]


def _ascii(text: str) -> str:
    from anyascii import anyascii

    return "".join(c for c in anyascii(text).lower() if c.isalnum())


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 3:
        return word
    i = rng.randrange(len(word))
    op = rng.choice("sdit")
    letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
    if op == "s":
        return word[:i] + letter + word[i + 1:]
    if op == "d":
        return word[:i] + word[i + 1:]
    if op == "i":
        return word[:i] + letter + word[i:]
    i = min(i, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def _display_surname(rng: random.Random, key: str) -> str:
    if key in D.SURNAME_FORMS:
        return rng.choice(D.SURNAME_FORMS[key])
    if "-" in key:
        a, b = key.split("-")
        return rng.choice([f"{a.title()}-{b.title()}", f"{a.title()} {b.title()}", f"{a.title()}-{b.title()}"])
    return key if not key.islower() else key.title()


def _display_forename(rng: random.Random, name: str) -> str:
    if name in D.DIACRITIC_FORENAMES and rng.random() < 0.5:
        return D.DIACRITIC_FORENAMES[name]
    return name.title()


def _date_text(rng: random.Random, d: datetime.date) -> str:
    forms = ["%d/%m/%Y", "%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d %B %Y", "%d-%b-%Y"]
    return d.strftime(rng.choice(forms))


def render(p: Person, rng: random.Random, *, repeat: bool, area: str) -> dict[str, str]:
    """One messy record of the person, as some area typed it."""
    forename, surname, dob, aliases, alias_dobs = p.forename, p.surname, p.dob, list(p.aliases), []
    r = rng.random
    if forename in D.NICKNAMES and r() < 0.12:
        forename = rng.choice(D.NICKNAMES[forename])
    if r() < 0.05:
        forename = _typo(rng, forename)
    fore_text = _display_forename(rng, forename)
    if r() < 0.02:
        fore_text = fore_text[0] + rng.choice(["", "."])
    if repeat and p.sex == "F" and r() < 0.10:  # changed surname, old name perhaps kept as an alias
        if r() < 0.5:
            aliases.append(f"{p.forename.title()} {_display_surname(rng, surname)}")
        surname = _surname(rng)
    sur_text = _display_surname(rng, surname)
    if "-" in surname and r() < 0.3:
        sur_text = rng.choice(surname.split("-")).title()
    if r() < 0.05:
        sur_text = _typo(rng, sur_text)
    if r() < 0.02:
        fore_text, sur_text = sur_text, fore_text
    if r() < 0.03 and dob.day <= 12 and dob.day != dob.month:
        dob = dob.replace(day=dob.month, month=dob.day)
    elif r() < 0.02:
        text = dob.strftime("%Y%m%d")
        i = rng.randrange(6, 8)
        try:
            dob = datetime.datetime.strptime(text[:i] + str(rng.randint(0, 9)) + text[i + 1:], "%Y%m%d").date()
        except ValueError:
            pass
    if r() < 0.04:
        alias_dobs.append(_date_text(rng, _dob(rng, dob.year - 2, min(dob.year + 2, 2008))))
    home = p.home
    address, postcode = home.address, home.postcode
    if repeat and r() < 0.5:  # moved
        moved = _household(rng, _Pool(rng))
        address, postcode = moved.address, moved.postcode
    pick = lambda value, keep: value if value and r() < keep else ""  # noqa: E731
    phone = p.mobile if p.mobile and r() < 0.6 else pick(home.landline, 0.5)
    return {
        "forename": fore_text,
        "middle_names": pick(p.middle.title(), 0.5),
        "surname": sur_text,
        "date_of_birth": "" if r() < 0.02 else _date_text(rng, dob),
        "aliases": ";".join(aliases),
        "alias_dobs": ";".join(alias_dobs),
        "pnc_id": pick(p.pnc, 0.7),
        "chi_number": pick(p.chi, 0.6),
        "ni_number": pick(p.ni, 0.5),
        "phone": phone,
        "email": pick(p.email, 0.5),
        "postcode": pick(postcode, 0.9),
        "address": pick(address, 0.8),
    }


def make_areas(per_area: int, n_areas: int, seed: int, repeat_share: float = 0.14):
    """Return ({area: [row, ...]}, [(record_id, person_id), ...])."""
    rng = random.Random(seed)
    areas = list(AREA_NAMES[:n_areas])
    population = make_population(int(per_area * n_areas * (1 - repeat_share)) + 1, areas, rng)
    by_area: dict[str, list[Person]] = {a: [] for a in areas}
    for person in population:
        by_area[person.area].append(person)
    rows: dict[str, list[dict]] = {a: [] for a in areas}
    truth: list[tuple[str, str]] = []
    ids: set[str] = set()

    def add(area: str, person: Person, repeat: bool) -> None:
        row = render(person, rng, repeat=repeat, area=area)
        rid = f"{rng.getrandbits(48):012x}"
        while rid in ids:
            rid = f"{rng.getrandbits(48):012x}"
        ids.add(rid)
        row["record_id"] = rid
        rows[area].append(row)
        truth.append((rid, person.pid))

    for area in areas:
        residents = by_area[area]
        rng.shuffle(residents)
        n_repeat = per_area - min(len(residents), int(per_area * (1 - repeat_share)))
        for person in residents[: per_area - n_repeat]:
            add(area, person, repeat=False)
        others = [p for a in areas if a != area for p in by_area[a][: int(per_area * (1 - repeat_share))]]
        for person in rng.sample(others, min(n_repeat, len(others))):
            add(area, person, repeat=True)
        rng.shuffle(rows[area])
    rng.shuffle(truth)
    return rows, truth


def write(out: Path, rows: dict[str, list[dict]], truth: list[tuple[str, str]]) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for area, records in rows.items():
        path = out / f"{area}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=COLUMNS)
            w.writeheader()
            w.writerows(records)
        paths.append(path)
    with (out / "truth.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["record_id", "person_id"])
        w.writerows(truth)
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--per-area", type=int, default=20_000)
    ap.add_argument("--areas", type=int, default=3, choices=range(2, len(AREA_NAMES) + 1))
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    rows, truth = make_areas(args.per_area, args.areas, args.seed)
    paths = write(args.out, rows, truth)
    print(f"wrote {', '.join(p.name for p in paths)} and truth.csv ({sum(len(r) for r in rows.values())} records)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
