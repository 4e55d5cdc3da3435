"""No person is left out by import (issue 12, item 2).

A bad value is blanked with a warning and its row imported; "no fixed
abode" is recorded as such; a one-word alias is a moniker; a row is refused
only when it cannot identify anyone. `node import` and `eval-linkage` read
rows through the same check, so they accept and blank the same values.
Every person and value here is invented.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys

import pytest

from fedalert.node import normalise
from fedalert.evaluation._csv import read_area
from fedalert.node.errors import ImportRejectedError
from fedalert.node.identity import Identity, Name
from fedalert.node.importer import import_file
from fedalert.node.records import identity_from_json, identity_to_json, row_hash
from fedalert.node.store import NodeStore

HEADER = ["record_id", "forename", "middle_names", "surname", "date_of_birth", "aliases", "alias_dobs", "pnc_id",
          "chi_number", "ni_number", "phone", "email", "postcode", "address"]
GOOD_PNC, BAD_PNC = "91/1234A", "91/1234B"  # A is the right check letter for 1991/0001234


def row(record_id, forename="", surname="", dob="", **more) -> list[str]:
    values = {"record_id": record_id, "forename": forename, "surname": surname, "date_of_birth": dob, **more}
    return [values.get(c, "") for c in HEADER]


#: A messy police-style export: NFA in the postcode, monikers, bad PNC check letters and other bad values.
MESSY = [
    row("M1", "Ambrose", "Tolliver", "04/07/1983", postcode="NFA", aliases="Tiny", pnc_id=BAD_PNC),
    row("M2", "Lachlan", "McTavish", "30/01/1975", postcode="No Fixed Abode", aliases="Big Dave;Tiny Tim;Lofty"),
    row("M3", "Cedric", "Harrowgate", "09/09/1988", postcode="n.f.a.", phone="12", email="cedric@", chi_number="1234567890",
        ni_number="XX12", alias_dobs="31/02/1980;01/02/1981"),
    row("M4", "Hester", "Nettlebed", "05/05/1965", postcode="unknown", address="12 Example Street"),
    row("M5", "Silas", "Moorcroft", "01/02/1970", address="No fixed abode, Leeds"),
    row("M6", "Jasper", "Fairweather", "31/02/1992", postcode="homeless"),
    row("M7", "", "", "32/13/1990", aliases="Rosalind Quayle"),
    row("M8", pnc_id=GOOD_PNC),
    row("M9", pnc_id=BAD_PNC),                       # nothing left to identify anyone: refused
    row("M10", "", "", "01/01/1990", aliases="Tiny"),  # a moniker alone: refused
    row("M11", "Tobias", "", "01/01/1990"),           # a forename alone: refused
]


def write_csv(path, rows, header=HEADER):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


@pytest.fixture
def store(tmp_path):
    s = NodeStore(tmp_path / "node.db")
    yield s
    s.close()


def stored(store, record_id) -> Identity:
    return identity_from_json(store.get_record(record_id)["identity"])


def test_a_messy_export_imports_everyone_who_can_be_identified(store, tmp_path):
    path = write_csv(tmp_path / "export.csv", MESSY)
    with pytest.raises(ImportRejectedError) as err:  # three rows cannot identify anyone: refused, as a file
        import_file(store, path)
    assert sorted({e.record_id for e in err.value.errors}) == ["M10", "M11", "M9"]
    res = import_file(store, path, skip_bad=True)
    assert (res.added, res.rejected, res.no_fixed_abode) == (8, 3, 5)
    m1, m2, m3 = stored(store, "M1"), stored(store, "M2"), stored(store, "M3")
    assert (m1.postcode, m1.no_fixed_abode, m1.pnc_id, m1.monikers) == ("", True, "", ["Tiny"])
    assert [n.surname for n in m1.names] == ["Tolliver"]  # the moniker is no Name
    assert m2.monikers == ["Lofty"] and [(n.forename, n.surname) for n in m2.names] == [
        ("Lachlan", "McTavish"), ("Big", "Dave"), ("Tiny", "Tim")]
    assert (m3.phone, m3.email, m3.chi_number, m3.ni_number, m3.no_fixed_abode) == ("", "", "", "", True)
    assert [d.isoformat() for d in m3.dobs] == ["1988-09-09", "1981-02-01"]  # the impossible alias DOB is blanked
    m4 = stored(store, "M4")
    assert (m4.postcode, m4.no_fixed_abode, m4.address) == ("", False, "12 Example Street")  # unknown: blanked
    m5 = stored(store, "M5")
    assert (m5.address, m5.no_fixed_abode) == ("", True)
    m6 = stored(store, "M6")
    assert (m6.dobs, m6.no_fixed_abode) == ([], True)  # bad DOB blanked; the names still identify
    assert [(n.forename, n.surname) for n in stored(store, "M7").names] == [("Rosalind", "Quayle")]
    assert stored(store, "M8").pnc_id == GOOD_PNC and stored(store, "M8").names == [Name("", "", "")]
    warned = {(w.record_id, w.field): w for w in res.warnings}
    assert set(warned) == {("M1", "pnc_id"), ("M3", "phone"), ("M3", "email"), ("M3", "chi_number"),
                           ("M3", "ni_number"), ("M3", "alias_dobs"), ("M4", "postcode"), ("M6", "date_of_birth"),
                           ("M7", "date_of_birth")}
    assert all(w.action == "value blanked" for w in warned.values())
    assert "check letter should be A" in warned[("M1", "pnc_id")].reason
    assert "unknown is not a UK postcode" in warned[("M4", "postcode")].reason
    refused = {(e.record_id, e.field) for e in res.errors}
    assert refused == {("M9", "(row)"), ("M9", "pnc_id"), ("M10", "(row)"), ("M11", "(row)")}
    assert res.report.summary().startswith("9 value(s) blanked or cleaned in 5 row(s)")


@pytest.mark.parametrize("text", ["NFA", "nfa", "N.F.A.", "N F A", "No Fixed Abode", "no fixed abode",
                                  "NO FIXED ABODE", "of no fixed abode", "No fixed address", "Homeless",
                                  " nfa ", "No Fixed Abode (NFA)"])
def test_no_fixed_abode_spellings(text):
    assert normalise.is_no_fixed_abode(text)


@pytest.mark.parametrize("text", ["", "NF1 2AB", "Nafferton", "unknown", "N/A", "none", "NFA Road", "x" * 200])
def test_not_no_fixed_abode(text):
    assert not normalise.is_no_fixed_abode(text)


def test_monikers_column_and_dedupe(store, tmp_path):
    header = ["record_id", "forename", "surname", "aliases", "monikers"]
    path = write_csv(tmp_path / "m.csv", [["R1", "Ann", "Example", "Tiny;Big Dave", "tiny; Big-Dave ;Spud;!!!"]], header)
    import_file(store, path)
    # Folded like a forename: "Tiny"/"tiny" and "Big Dave"/"Big-Dave" are one moniker each; "!!!" folds to nothing.
    assert stored(store, "R1").monikers == ["Tiny", "Big-Dave", "Spud"]
    assert normalise.normalise_moniker("Big Dave") == normalise.normalise_moniker("big-dave") == "bigdave"


#: An identity as the importer stored it before monikers and no_fixed_abode existed, and its row hash.
OLD_JSON = ('{"address":"12 Example Street","chi_number":"","dobs":["1975-01-30","1975-02-01"],'
            '"email":"l.m@example.org","names":[{"forename":"Lachlan","middle_names":"James","surname":"McTavish"},'
            '{"forename":"Lachie","middle_names":"","surname":"Mack"}],"ni_number":"QQ123456C",'
            '"phone":"07700 900123","pnc_id":"91/1234A","postcode":"ZZ99 1AA"}')
OLD_HASH = "38b5c5324670a6d434e66efc7d0406f429a6b1195a4380d511483bc5e6029548"
OLD_ROW = ["R2", "Lachlan", "James", "McTavish", "30/01/1975", "Lachie Mack", "01/02/1975", "91/1234A", "",
           "QQ123456C", "07700 900123", "l.m@example.org", "ZZ99 1AA", "12 Example Street"]


def test_an_old_record_keeps_its_json_and_hash_and_is_not_republished(store, tmp_path):
    assert row_hash(OLD_JSON) == OLD_HASH
    assert identity_to_json(identity_from_json(OLD_JSON)) == OLD_JSON
    # The record as an older version stored it, already published.
    with store.transaction():
        store.upsert_record("R2", OLD_JSON, OLD_HASH)
    store.mark_published([("R2", 1)])
    res = import_file(store, write_csv(tmp_path / "same.csv", [OLD_ROW]))
    assert (res.added, res.updated, res.unchanged) == (0, 0, 1)
    assert store.get_record("R2")["identity"] == OLD_JSON and store.pending_count() == 0
    # A record with the new fields carries them, and only then.
    new = identity_from_json(OLD_JSON)
    new.monikers, new.no_fixed_abode = ["Tiny"], True
    text = identity_to_json(new)
    assert json.loads(text)["monikers"] == ["Tiny"] and json.loads(text)["no_fixed_abode"] is True
    assert identity_from_json(text) == new


# ---------------------------------------------------------------- one validation path for import and evaluation

AREA_A = [
    row("A1", "Ambrose", "Tolliver", "04/07/1983", postcode="NFA", aliases="Tiny", pnc_id=BAD_PNC),
    row("A2", "Cedric", "Harrowgate", "31/02/1988", phone="12", email="cedric@", alias_dobs="31/02/1980;01/02/1981"),
    row("A3", "Hester\u202e", "Nettle\nbed", "05/05/1965", postcode="unknown", chi_number="1234567890"),
    row("A4", pnc_id=BAD_PNC),  # refused by both
]
AREA_B = [
    row("B1", "Ambrose", "Tolliver", "04/07/1983", postcode="No Fixed Abode", ni_number="XX12"),
    row("B2", "Cedric", "Harrowgate", "09/09/1988", pnc_id=GOOD_PNC),
]


def _report_rows(path) -> set[tuple[str, str, str]]:
    with open(path, encoding="utf-8") as fh:
        return {(r["row"], r["field"], "refused" if r["action"] == "row refused" else r["action"])
                for r in csv.DictReader(fh)}


_EVAL_LINE = re.compile(r"^warning: (\w+)\.csv row (\d+) (\S+): .*; (value blanked|characters removed|"
                        r"row left out) ?.*$")


def test_import_and_eval_linkage_accept_and_blank_the_same_values(tmp_path):
    a, b = write_csv(tmp_path / "alpha.csv", AREA_A), write_csv(tmp_path / "beta.csv", AREA_B)
    truth = tmp_path / "truth.csv"
    truth.write_text("record_id,person_id\nA1,p1\nA2,p2\nA3,p3\nA4,p4\nB1,p1\nB2,p2\n", encoding="utf-8")
    # The deployed path: real `fedalert node import --skip-bad` processes and their report files.
    imported: dict[str, set] = {}
    for path in (a, b):
        res = subprocess.run([sys.executable, "-m", "fedalert", "node", "import", str(path), "--skip-bad",
                              "--db", str(tmp_path / f"{path.stem}.db")], capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stderr
        assert "value(s) blanked or cleaned" in res.stderr  # the one-line summary at the default log level
        imported[path.stem] = _report_rows(path.with_name(path.name + ".report.csv"))
    # The evaluation: a real `fedalert eval-linkage` process; its warnings on stderr.
    res = subprocess.run([sys.executable, "-m", "fedalert", "eval-linkage", str(a), str(b), "--truth", str(truth),
                          "--json"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    evaluated: dict[str, set] = {"alpha": set(), "beta": set()}
    for line in res.stderr.splitlines():
        if m := _EVAL_LINE.match(line):
            action = "refused" if m[4] == "row left out" else m[4]
            evaluated[m[1]].add((m[2], m[3], action))
    assert evaluated == imported
    assert ("2", "pnc_id", "value blanked") in imported["alpha"] and ("6", "(row)", "refused") in imported["alpha"]
    assert ("5", "forename", "characters removed") in imported["alpha"]  # A3 ends on line 5
    # Same identities, value for value: what eval-linkage scores is what the node stores.
    stored_ids = {}
    for path in (a, b):
        s = NodeStore(tmp_path / f"{path.stem}.db")
        try:
            stored_ids[path.stem] = {rid: s.get_record(rid)["identity"] for rid in s.active_record_ids()}
        finally:
            s.close()
        evaluated_ids = {rid: identity_to_json(i) for rid, i in read_area(path, lambda _w: None).items()}
        assert evaluated_ids == stored_ids[path.stem]
    assert sorted(stored_ids["alpha"]) == ["A1", "A2", "A3"] and sorted(stored_ids["beta"]) == ["B1", "B2"]
    a3 = identity_from_json(stored_ids["alpha"]["A3"])
    assert (a3.names[0].forename, a3.names[0].surname) == ("Hester", "Nettle bed")  # no U+202E, no newline
