"""Private reader of canonical CSV files for eval-linkage.

The lead's importer is the real import path; this reader follows the same
canonical columns and rules for an in-memory evaluation: unknown columns are
ignored with a warning, invalid values are blanked with a warning (the row
still counts), and names and dates are kept raw for the node's normaliser.
"""

from __future__ import annotations

import csv
import io
import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fedalert.node import normalise as nz
from fedalert.node.errors import CsvFormatError, FieldValueError
from fedalert.node.identity import Identity, Name

log = logging.getLogger(__name__)

COLUMNS = (
    "record_id", "forename", "middle_names", "surname", "date_of_birth", "aliases", "alias_dobs",
    "pnc_id", "chi_number", "ni_number", "phone", "email", "postcode", "address",
)

_VALIDATORS: dict[str, Callable[[str], str]] = {
    "pnc_id": nz.normalise_pnc,
    "chi_number": nz.normalise_chi,
    "ni_number": nz.normalise_ni,
    "phone": nz.normalise_phone,
    "email": nz.normalise_email,
    "postcode": nz.normalise_postcode,
}


@dataclass
class ReadReport:
    rows: int = 0
    blanked: int = 0
    warnings: list[str] | None = None


def parse_alias(text: str) -> Name | None:
    """One alias "Forename Middle Surname": last word is the surname."""
    words = text.split()
    if not words:
        return None
    if len(words) == 1:
        return Name("", "", words[0])
    return Name(words[0], " ".join(words[1:-1]), words[-1])


def read_area(path: Path, warn: Callable[[str], None]) -> dict[str, Identity]:
    """Read one area file: record_id -> Identity. Raises CsvFormatError."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CsvFormatError(f"cannot read {path}: {exc}; give a UTF-8 CSV file") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    if "record_id" not in header:
        raise CsvFormatError(f"{path}: no record_id column; the first line must name the canonical columns")
    extra = [c for c in header if c not in COLUMNS]
    if extra:
        warn(f"{path.name}: ignoring unknown columns: {', '.join(extra)}")
    out: dict[str, Identity] = {}
    for line, row in enumerate(reader, start=2):
        rid = (row.get("record_id") or "").strip()
        if not rid:
            warn(f"{path.name} row {line}: record_id is empty; row skipped")
            continue
        if rid in out:
            raise CsvFormatError(f"{path.name} row {line}: record_id {rid} appears twice; record ids must be unique")
        out[rid] = _identity(row, lambda field, reason: warn(f"{path.name} row {line} {field}: {reason}; value blanked"))
    return out


def _identity(row: dict[str, str], blank: Callable[[str, str], None]) -> Identity:
    get = lambda c: (row.get(c) or "").strip()  # noqa: E731
    names = [Name(get("forename"), get("middle_names"), get("surname"))]
    names += [n for n in (parse_alias(a) for a in get("aliases").split(";")) if n]
    dobs: list[datetime.date] = []
    for field, values in (("date_of_birth", [get("date_of_birth")]), ("alias_dobs", get("alias_dobs").split(";"))):
        for value in values:
            if not value.strip():
                continue
            try:
                dobs.append(nz.parse_date(value))
            except FieldValueError as exc:
                blank(field, exc.reason)
    values: dict[str, str] = {}
    for field, check in _VALIDATORS.items():
        value = get(field)
        if not value:
            continue
        try:
            check(value)
            values[field] = value
        except FieldValueError as exc:
            blank(field, exc.reason)
    return Identity(
        names=[n for n in names if n.forename or n.surname],
        dobs=dobs,
        pnc_id=values.get("pnc_id", ""),
        chi_number=values.get("chi_number", ""),
        ni_number=values.get("ni_number", ""),
        phone=values.get("phone", ""),
        email=values.get("email", ""),
        postcode=values.get("postcode", ""),
        address=get("address"),
    )


def read_truth(path: Path) -> dict[str, str]:
    """TRUTH.csv with columns record_id, person_id -> {record_id: person_id}."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CsvFormatError(f"cannot read {path}: {exc}") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not {"record_id", "person_id"} <= set(reader.fieldnames or []):
        raise CsvFormatError(f"{path}: the truth file needs the columns record_id,person_id")
    return {r["record_id"].strip(): r["person_id"].strip() for r in reader if (r.get("record_id") or "").strip()}
