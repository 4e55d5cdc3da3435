"""Synthetic people for the performance benchmark (bench/federation.py), with planted cross-area duplicates.

Every person is invented: forenames and surnames are built from syllables,
streets too; postcodes use the ZZ99 pseudo-area; PNC ids are well-formed but
made up (the check letter is computed); NI numbers use the QQ example prefix;
e-mail addresses are at example.org; phone numbers come from Ofcom's drama
range. No real person's record is used.

The name pool is large (about 4,000 forenames x 60,000 surnames) so that,
as in a real population, two unrelated records rarely share a full name and
a date of birth, while common forenames still repeat.

``make_people(areas, per_area, duplicates, probes, seed)`` returns a
:class:`People` with one list of CSV rows per area, the planted duplicate
pairs (each must raise a match alert in both areas), and latency probes:
a record loaded into one area up front plus its counterpart, to be added to
another area later (one new record, one expected match).
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from pathlib import Path

COLUMNS = ["record_id", "forename", "middle_names", "surname", "date_of_birth", "aliases", "alias_dobs",
           "pnc_id", "chi_number", "ni_number", "phone", "email", "postcode", "address"]

_ONSET = ["b", "br", "c", "ch", "d", "dr", "f", "g", "gr", "h", "j", "k", "l", "m", "n", "p", "pr", "r", "s",
          "st", "sh", "t", "th", "tr", "v", "w", "z"]
_VOWEL = ["a", "e", "i", "o", "u", "ai", "ea", "ou", "y"]
_CODA = ["", "", "n", "r", "l", "s", "th", "m", "nd", "rt", "ck", "x"]
_STREET = ["Street", "Road", "Lane", "Avenue", "Close", "Crescent", "Drive", "Row", "Terrace"]
_PNC_ALPHABET = "ZABCDEFGHJKLMNPQRTUVWXY"


def _word(rng: random.Random, syllables: int) -> str:
    w = "".join(rng.choice(_ONSET) + rng.choice(_VOWEL) + rng.choice(_CODA) for _ in range(syllables))
    return w.capitalize()


def _pool(rng: random.Random, n: int, lo: int, hi: int) -> list[str]:
    out: set[str] = set()
    while len(out) < n:
        out.add(_word(rng, rng.randint(lo, hi)))
    return sorted(out)


def _pnc(rng: random.Random) -> str:
    year = rng.randint(1985, 2023)
    serial = f"{rng.randint(1, 9_999_999):07d}"
    check = _PNC_ALPHABET[int(f"{year % 100:02d}{serial}") % 23]
    return f"{year}/{serial}{check}"


def _typo(rng: random.Random, text: str) -> str:
    """One edit: swap two adjacent letters, or drop one (never the first)."""
    if len(text) < 4:
        return text
    i = rng.randint(1, len(text) - 2)
    if rng.random() < 0.5:
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    return text[:i] + text[i + 1:]


@dataclass
class People:
    areas: dict[str, list[dict]] = field(default_factory=dict)
    #: (area, record_id, area, record_id): must alert in both areas.
    planted: list[tuple[str, str, str, str]] = field(default_factory=list)
    #: (area_new, row_new, area_old, record_id_old): row_new is added later.
    probes: list[tuple[str, dict, str, str]] = field(default_factory=list)

    def total(self) -> int:
        return sum(len(rows) for rows in self.areas.values())

    def write(self, folder: Path) -> dict[str, Path]:
        folder.mkdir(parents=True, exist_ok=True)
        paths = {}
        for area, rows in self.areas.items():
            paths[area] = folder / f"{area}.csv"
            write_csv(paths[area], rows)
        return paths


def write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in COLUMNS})


def csv_bytes(rows: list[dict]) -> bytes:
    import io

    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=COLUMNS)
    w.writeheader()
    for r in rows:
        w.writerow({c: r.get(c, "") for c in COLUMNS})
    return buf.getvalue().encode("utf-8")


class _Maker:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.forenames = _pool(self.rng, 4000, 1, 3)
        self.surnames = _pool(self.rng, 60000, 2, 3)
        self.streets = _pool(self.rng, 5000, 2, 3)
        self.n = 0

    def person(self, record_id: str) -> dict:
        rng = self.rng
        self.n += 1
        row = {
            "record_id": record_id,
            "forename": rng.choice(self.forenames),
            "surname": rng.choice(self.surnames),
            "date_of_birth": f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1950, 2006)}",
        }
        if rng.random() < 0.3:
            row["middle_names"] = rng.choice(self.forenames)
        if rng.random() < 0.1:
            row["aliases"] = f"{rng.choice(self.forenames)} {rng.choice(self.surnames)}"
        if rng.random() < 0.4:
            row["pnc_id"] = _pnc(rng)
        if rng.random() < 0.2:
            row["ni_number"] = f"QQ{self.n % 1_000_000:06d}{'ABCD'[self.n % 4]}"
        if rng.random() < 0.2:
            row["email"] = f"{row['forename'].lower()}.{row['surname'].lower()}{self.n}@example.org"
        if rng.random() < 0.5:
            row["postcode"] = f"ZZ99 {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}" \
                              f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
            row["address"] = f"{rng.randint(1, 250)} {rng.choice(self.streets)} {rng.choice(_STREET)}"
        return row

    def duplicate(self, row: dict, record_id: str) -> dict:
        """The same person as recorded by another area: sometimes a typo, another date format."""
        rng = self.rng
        dup = {"record_id": record_id, "forename": row["forename"], "surname": row["surname"]}
        d, m, y = row["date_of_birth"].split("/")
        dup["date_of_birth"] = rng.choice([f"{d}/{m}/{y}", f"{y}-{m}-{d}", f"{d}.{m}.{y}"])
        r = rng.random()
        if r < 0.2:
            dup["surname"] = _typo(rng, row["surname"])
        elif r < 0.3:
            dup["forename"] = _typo(rng, row["forename"])
        for col in ("pnc_id", "postcode", "address"):
            if row.get(col) and rng.random() < 0.7:
                dup[col] = row[col]
        return dup


def make_people(areas: list[str], per_area: int, *, duplicates: int = 0, probes: int = 0,
                seed: int = 2026) -> People:
    """`per_area` records in each area; `duplicates` planted pairs and `probes`
    probe records are part of that count (the probes' counterparts are not)."""
    if len(areas) < 2:
        raise ValueError("need at least two areas")
    mk = _Maker(seed)
    people = People(areas={a: [] for a in areas})
    counters = {a: 0 for a in areas}

    def next_id(area: str) -> str:
        counters[area] += 1
        return f"{area.upper()}-{counters[area]:07d}"

    budget = {a: per_area for a in areas}
    rng = mk.rng
    for i in range(duplicates):
        a = areas[i % len(areas)]
        b = areas[(i + 1 + rng.randrange(len(areas) - 1)) % len(areas)]
        if budget[a] < 1 or budget[b] < 1:
            break
        row = mk.person(next_id(a))
        dup = mk.duplicate(row, next_id(b))
        people.areas[a].append(row)
        people.areas[b].append(dup)
        budget[a] -= 1
        budget[b] -= 1
        people.planted.append((a, row["record_id"], b, dup["record_id"]))
    for i in range(probes):
        old = areas[(i + 1) % len(areas)]
        new = areas[i % len(areas)]
        if budget[old] < 1:
            break
        row = mk.person(next_id(old))
        people.areas[old].append(row)
        budget[old] -= 1
        people.probes.append((new, mk.duplicate(row, f"PROBE-{i:05d}"), old, row["record_id"]))
    for a in areas:
        for _ in range(budget[a]):
            people.areas[a].append(mk.person(next_id(a)))
        rng.shuffle(people.areas[a])
    return people
