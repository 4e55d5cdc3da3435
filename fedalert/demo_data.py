"""Synthetic records for the demo: invented people, with planted cross-area pairs.

Every name here is made up from short lists of common words and names; no
real person's record is used. Identifiers use reserved or invalid ranges
(phone numbers from Ofcom's drama range, example.org e-mail).
"""

from __future__ import annotations

import csv
import datetime as _dt
import random
from dataclasses import dataclass, field
from pathlib import Path

COLUMNS = ["record_id", "forename", "middle_names", "surname", "date_of_birth", "aliases", "alias_dobs",
           "pnc_id", "chi_number", "ni_number", "phone", "email", "postcode", "address"]
#: Case-field columns (see the README's CSV section): value, supplying partner, date, subject.
CASE_FIELDS = ["risk_level", "marac_dates", "current_risk_summary", "conditions", "contact_details",
               "gender_history"]
CASE_COLUMNS = [c for f in CASE_FIELDS for c in (f, f"{f}__source", f"{f}__recorded", f"{f}__subject")]


def overlay_text(area: str, today: _dt.date) -> str:
    """A local protocol overlay for an invented area: partners signed off a month ago.

    Dates are relative to *today* so that the sign-offs are current whenever
    the demo runs. Every organisation and person named is invented.
    """
    signed = today - _dt.timedelta(days=30)
    return f"""# Invented local information sharing agreement for demo area {area!r}.
[overlay]
id = "{area}-local-isa"
version = "1"
area = "{area}"
extends = "fedalert-national-isp"
extends_version = "2026.1"
effective = {min(signed, _dt.date(2026, 4, 1)).isoformat()}
review = {(today + _dt.timedelta(days=365)).isoformat()}

[partners.{area}-police]
name = "{area.title()} Constabulary (invented)"
type = "police"
sector = "statutory"
signatory = "Superintendent Example {area.title()}"
signed_on = {signed.isoformat()}
signed_version = "2026.1"

[partners.{area}-council]
name = "{area.title()} Council Social Work (invented)"
type = "council"
sector = "statutory"
lead = true
signatory = "Director Placeholder {area.title()}"
signed_on = {signed.isoformat()}
signed_version = "2026.1"

[partners.{area}-ida]
name = "{area.title()} Domestic Abuse Service (invented)"
type = "third_sector"
sector = "third_sector"
signatory = "Chief Executive Sample {area.title()}"
signed_on = {signed.isoformat()}
signed_version = "2026.1"
"""


def case_values(area: str, today: _dt.date, seed: str) -> dict:
    """Invented case values for one planted person, as CSV cells."""
    d = lambda days: (today - _dt.timedelta(days=days)).isoformat()  # noqa: E731
    vals = {
        "risk_level": ("HIGH - DASH 18 of 24", f"{area}-police", d(20), "victim"),
        "marac_dates": (f"MARAC heard {d(40)} and {d(12)}", f"{area}-council", d(12), "case"),
        "current_risk_summary": (f"INVENTED {seed} risk summary: threats after separation, escalating",
                                 f"{area}-ida", d(10), "victim"),
        "conditions": (f"INVENTED {seed} bail condition: not to enter Quarrymead Lane", f"{area}-police", d(15),
                       "perpetrator"),
        "contact_details": (f"INVENTED {seed} safe contact via the refuge desk", f"{area}-ida", d(9), "victim"),
        "gender_history": (f"INVENTED {seed} gender history note", f"{area}-police", d(60), "perpetrator"),
    }
    out = {}
    for f, (v, src, rec, subj) in vals.items():
        out.update({f: v, f"{f}__source": src, f"{f}__recorded": rec, f"{f}__subject": subj})
    return out

_FORENAMES = ["Aled", "Bryony", "Callum", "Delyth", "Emrys", "Fenella", "Gareth", "Hester", "Idris", "Jolene",
              "Kester", "Linnet", "Morwen", "Neville", "Orla", "Peregrine", "Quentin", "Rosalind", "Silas",
              "Tamsin", "Ulric", "Verity", "Wilfred", "Xanthe", "Yorick", "Zillah"]
_SURNAMES = ["Ashdown", "Brackenridge", "Coldharbour", "Dunmore", "Elmsworth", "Fallowfield", "Greywell",
             "Hartsmere", "Ivybridge", "Juniper", "Kestrelton", "Larkspur", "Moorcroft", "Nettlebed",
             "Oakenshaw", "Pennywhistle", "Quarrington", "Rookwood", "Stonecastle", "Thistlewood"]


@dataclass
class Planted:
    kind: str
    records: list[tuple[str, str]]
    expect_match: bool


@dataclass
class DemoData:
    areas: dict[str, list[dict]] = field(default_factory=dict)
    planted: list[Planted] = field(default_factory=list)

    def write(self, folder: Path) -> dict[str, Path]:
        folder.mkdir(parents=True, exist_ok=True)
        paths = {}
        cols = COLUMNS + CASE_COLUMNS
        for area, rows in self.areas.items():
            path = folder / f"{area}.csv"
            with open(path, "w", newline="", encoding="utf-8") as fh:
                w = csv.DictWriter(fh, fieldnames=cols)
                w.writeheader()
                for r in rows:
                    w.writerow({c: r.get(c, "") for c in cols})
            paths[area] = path
        return paths


def _row(rid, fore, sur, dob, **extra) -> dict:
    return {"record_id": rid, "forename": fore, "surname": sur, "date_of_birth": dob, **extra}


def make_demo_data(areas: list[str], background: int = 30, seed: int = 7,
                   today: _dt.date | None = None) -> DemoData:
    """Planted pairs across the first three areas plus distinct background people.

    The first planted pair (exact, with PNC id) carries case fields in both
    areas: the demo's disclosure asks for them."""
    today = today or _dt.date.today()
    if len(areas) < 3:
        raise ValueError("the demo needs three areas")
    a, b, c = areas[:3]
    d = DemoData(areas={x: [] for x in areas})

    def plant(kind, expect, *rows):
        for area, row in rows:
            if "risk_level" not in row:  # every planted person has invented case values
                row.update(case_values(area, today, f"case-{row['record_id'].split('-')[-1]}"))
            d.areas[area].append(row)
        d.planted.append(Planted(kind, [(area, row["record_id"]) for area, row in rows], expect))

    plant("exact, with PNC id", True,
          (a, _row(f"{a.upper()}-1001", "Brannock", "Vellacott", "14/03/1986", pnc_id="86/123456Z",
                   postcode="ZZ99 1AA", phone="07700 900123", **case_values(a, today, "case-1001"))),
          (b, _row(f"{b.upper()}-2001", "Brannock", "Vellacott", "1986-03-14", pnc_id="86/123456Z",
                   **case_values(b, today, "case-2001"))))
    plant("nickname (Bob for Robert)", True,
          (a, _row(f"{a.upper()}-1002", "Robert", "Quillfeather", "02/11/1979")),
          (c, _row(f"{c.upper()}-3002", "Bob", "Quillfeather", "2 Nov 1979")))
    plant("typo in surname", True,
          (b, _row(f"{b.upper()}-2003", "Tobias", "Wrenfield", "21/06/1990")),
          (c, _row(f"{c.upper()}-3003", "Tobias", "Wrenfeild", "21.06.1990")))
    plant("day and month swapped", True,
          (a, _row(f"{a.upper()}-1004", "Ambrose", "Tolliver", "04/07/1983")),
          (b, _row(f"{b.upper()}-2004", "Ambrose", "Tolliver", "07/04/1983")))
    plant("Mc/Mac and e-mail", True,
          (a, _row(f"{a.upper()}-1005", "Lachlan", "McTavish", "30/01/1975", email="l.mctavish@example.org")),
          (c, _row(f"{c.upper()}-3005", "Lachlan", "MacTavish", "30/01/1975", email="L.McTavish@Example.org")))
    plant("alias in one area", True,
          (b, _row(f"{b.upper()}-2006", "Cedric", "Harrowgate", "09/09/1988", aliases="Ced Blackmore")),
          (c, _row(f"{c.upper()}-3006", "Cedric", "Blackmore", "09/09/1988")))
    plant("twins: same surname, DOB and address, different forename", False,
          (a, _row(f"{a.upper()}-1007", "Jasper", "Fairweather", "12/12/1992", postcode="ZZ99 3CC",
                   address="1 Example Row")),
          (b, _row(f"{b.upper()}-2007", "Jonah", "Fairweather", "12/12/1992", postcode="ZZ99 3CC",
                   address="1 Example Row")))

    rng = random.Random(seed)
    used = set()
    for area in areas:
        for i in range(background):
            while True:
                fore, sur = rng.choice(_FORENAMES), rng.choice(_SURNAMES)
                if (fore, sur) not in used:
                    used.add((fore, sur))
                    break
            dob = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1960, 2004)}"
            d.areas[area].append(_row(f"{area.upper()}-{5000 + i}", fore, sur, dob))
    return d
