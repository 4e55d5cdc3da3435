"""Synthetic people for the docker fault tests: invented names only.

Names are built from made-up syllables, one distinct name per index, so no
two generated people collide by accident; PNC ids are made up with a valid
check letter; phone numbers come from Ofcom's drama range. Columns are the
node's canonical CSV import columns, plus the case-field columns when a row
carries case values (``with_case_values``: invented values from
``fedalert.demo_data.case_values``, supplied by the partners of the area's
overlay that the docker keys job writes).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from fedalert.demo_data import CASE_COLUMNS, case_values

COLUMNS = ["record_id", "forename", "middle_names", "surname", "date_of_birth", "aliases", "alias_dobs",
           "pnc_id", "chi_number", "ni_number", "phone", "email", "postcode", "address"]
_FORE = ["Bal", "Cor", "Dun", "Emb", "Fal", "Gor", "Hab", "Ilm", "Jor", "Kel", "Lom", "Mir", "Nol", "Orb", "Pel"]
_TAIL = ["wen", "rick", "ton", "dra", "mond", "sel", "wyn", "bert", "ric", "lan"]
_SUR = ["quill", "brack", "thorn", "wick", "dell", "mere", "holt", "fenn", "gorse", "lark", "moss", "pike"]
_PNC_ALPHABET = "ZABCDEFGHJKLMNPQRTUVWXY"


def _digits(n: int, base: int, width: int) -> list[int]:
    out = []
    for _ in range(width):
        n, r = divmod(n, base)
        out.append(r)
    return out


def person(index: int) -> dict:
    """A distinct invented person for each index < 15*10*12**3."""
    f, t = _digits(index, 15, 1)[0], _digits(index // 15, 10, 1)[0]
    s = _digits(index // 150, len(_SUR), 3)
    surname = "".join(_SUR[i] for i in s).capitalize() + "ington"
    day, month, year = 1 + index % 28, 1 + (index // 28) % 12, 1950 + (index // 336) % 50
    return {"forename": _FORE[f] + _TAIL[t], "surname": surname, "date_of_birth": f"{day:02d}/{month:02d}/{year}"}


def pnc(index: int) -> str:
    yy, serial = 80 + index % 19, f"{(index * 7919) % 10_000_000:07d}"
    return f"{yy}/{serial}{_PNC_ALPHABET[int(f'{yy}{serial}') % 23]}"


@dataclass
class Pair:
    """One invented person known in two areas under two record ids."""
    index: int
    left: dict
    right: dict


def pairs(prefix: str, start: int, count: int, left: str, right: str) -> list[Pair]:
    """People known in areas `left` and `right`: same name, DOB and PNC id (a high-tier match)."""
    out = []
    for i in range(start, start + count):
        p = {**person(i), "pnc_id": pnc(i)}
        out.append(Pair(i, {"record_id": f"{prefix}-{left}-{i}", **p}, {"record_id": f"{prefix}-{right}-{i}", **p}))
    return out


def background(prefix: str, area: str, start: int, count: int) -> list[dict]:
    """People known in one area only (no PNC id)."""
    return [{"record_id": f"{prefix}-{area}-{i}", **person(i)} for i in range(start, start + count)]


def with_case_values(row: dict, area: str, today) -> dict:
    """*row* plus invented case values for area *area* (partners ``<area>-police`` etc.)."""
    return {**row, **case_values(area, today, row["record_id"])}


def write_csv(path: Path, rows: list[dict]) -> Path:
    columns = COLUMNS + (CASE_COLUMNS if any(c in r for r in rows for c in CASE_COLUMNS) else [])
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=columns)
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in columns})
    return path
