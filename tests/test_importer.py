"""CSV import: every row validated; all or nothing; idempotent re-import."""

from __future__ import annotations

import csv
import stat

import pytest

from fedalert.node.errors import ImportRejectedError
from fedalert.node.importer import import_file, parse_csv, write_report
from fedalert.node.records import identity_from_json
from fedalert.node.store import NodeStore

HEADER = "record_id,forename,middle_names,surname,date_of_birth,aliases,alias_dobs,pnc_id,phone,email,postcode\n"


@pytest.fixture
def store(tmp_path):
    s = NodeStore(tmp_path / "node.db")
    yield s
    s.close()


def identity(store, record_id):
    return identity_from_json(store.get_record(record_id)["identity"])


def _write(tmp_path, text: str, name="export.csv", encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return p


GOOD = (HEADER
        + "R1,Ambrose,,Tolliver,04/07/1983,,,,,,\n"
        + "R2,Lachlan,James,McTavish,1975-01-30,Lachie Mack;L J Tavish,01/02/1975,,07700 900123,l.m@example.org,ZZ99 1AA\n"
        + "R3,Cedric,,Harrowgate,9-Sep-1988,,,,,,\n")


def test_good_file_imports_and_reimport_changes_nothing(store, tmp_path):
    p = _write(tmp_path, GOOD)
    res = import_file(store, p)
    assert (res.added, res.updated, res.unchanged, res.rejected) == (3, 0, 0, 0)
    handles = {r: store.get_record(r)["handle"] for r in ("R1", "R2", "R3")}
    versions = {r: store.get_record(r)["version"] for r in handles}
    res2 = import_file(store, p)
    assert (res2.added, res2.updated, res2.unchanged) == (0, 0, 3)
    assert {r: store.get_record(r)["version"] for r in handles} == versions
    assert {r: store.get_record(r)["handle"] for r in handles} == handles


def test_changed_row_updates_only_that_record(store, tmp_path):
    import_file(store, _write(tmp_path, GOOD))
    before = {r: store.get_record(r)["version"] for r in ("R1", "R2", "R3")}
    res = import_file(store, _write(tmp_path, GOOD.replace("Harrowgate", "Harrowgait"), name="v2.csv"))
    assert (res.updated, res.unchanged) == (1, 2)
    assert store.get_record("R3")["version"] == before["R3"] + 1
    assert store.get_record("R1")["version"] == before["R1"]
    assert store.get_record("R3")["handle"]  # the handle survives an update


def test_handles_are_random_and_reveal_nothing(store, tmp_path):
    import_file(store, _write(tmp_path, GOOD))
    handles = [store.get_record(r)["handle"] for r in ("R1", "R2", "R3")]
    assert len(set(handles)) == 3
    for h in handles:
        assert len(h) >= 20 and "tolliver" not in h.lower()
    # Random, not derived from the record: the same file in another store gets other handles.
    (tmp_path / "other").mkdir()
    other = NodeStore(tmp_path / "other" / "node.db")
    try:
        import_file(other, _write(tmp_path / "other", GOOD))
        assert not {other.get_record(r)["handle"] for r in ("R1", "R2", "R3")} & set(handles)
    finally:
        other.close()


def test_a_refused_row_refuses_the_whole_file_with_row_field_reason(store, tmp_path):
    text = (HEADER
            + "R1,Ambrose,,Tolliver,04/07/1983,,,,,,\n"
            + "R2,Lachlan,,McTavish,31/02/1975,,,,,,\n"       # impossible date: blanked, not refused
            + ",Nobody,,Atall,01/01/1980,,,,,,\n"              # missing record_id
            + "R1,Again,,Twice,01/01/1980,,,,,,\n"             # duplicate id
            + "R5,Cedric,,,09/09/1988,,,,,,\n")                # cannot identify anyone
    with pytest.raises(ImportRejectedError) as err:
        import_file(store, _write(tmp_path, text))
    errors = {(e.row, e.field) for e in err.value.errors}
    assert errors == {(4, "record_id"), (5, "record_id"), (6, "(row)")}
    reasons = " ".join(e.reason for e in err.value.errors)
    assert "duplicate" in reasons and "cannot identify anyone" in reasons
    assert "row 4" in str(err.value) and "3 refused row(s)" in str(err.value)
    assert [(w.row, w.field) for w in err.value.report.warnings] == [(3, "date_of_birth")]
    assert store.get_record("R1") is None  # nothing imported


def test_skip_bad_imports_the_other_rows_and_reports_the_rest(store, tmp_path):
    text = (HEADER + "R1,Ambrose,,Tolliver,04/07/1983,,,,,,\n" + "R2,Lachlan,,,32/01/1975,,,,,,\n"
            + "R3,Cedric,,Harrowgate,32/01/1975,,,,,,\n")
    res = import_file(store, _write(tmp_path, text), skip_bad=True)
    assert (res.added, res.rejected) == (2, 1)
    assert store.get_record("R1") and store.get_record("R3") and store.get_record("R2") is None
    report = tmp_path / "report.csv"
    write_report(res.report, report)
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    rows = list(csv.DictReader(report.open()))
    got = [(r["row"], r["record_id"], r["field"], r["action"]) for r in rows]
    assert got == [("3", "R2", "(row)", "row refused"), ("3", "R2", "date_of_birth", "row refused"),
                   ("4", "R3", "date_of_birth", "value blanked")]
    assert all(r["reason"] for r in rows) and "32/01/1975 is not a real date" in rows[2]["reason"]


def test_unknown_columns_warn_and_are_ignored(store, tmp_path):
    text = "record_id,forename,surname,date_of_birth,shoe_size\nR1,Ambrose,Tolliver,04/07/1983,11\n"
    res = import_file(store, _write(tmp_path, text))
    assert res.added == 1
    assert any("shoe_size" in w for w in res.notes)


def test_bom_and_non_utf8(store, tmp_path):
    res = import_file(store, _write(tmp_path, "\ufeff" + GOOD))
    assert res.added == 3
    bad = _write(tmp_path, b"record_id,forename,surname\nR9,Jos\xe9,Ramirez\n", name="latin1.csv")
    with pytest.raises(ImportRejectedError) as err:
        import_file(store, bad)
    assert "not UTF-8" in str(err.value) and "line 2" in str(err.value)


def test_hostile_values_are_cleaned_or_blanked_and_the_row_imported(store, tmp_path):
    text = (HEADER + "R1,Amb\x00rose,,Tolliver,04/07/1983,,,,,,\n" + "R2," + "A" * 600 + ",,Tolliver,04/07/1983,,,,,,\n"
            + "R3,Future,,Person,01/01/2999,,,,,,\n" + "R4,Only,,,,,,,,,\n" + "R5,Too,Many,Fields,01/01/1980,,,,,,,extra\n")
    res = import_file(store, _write(tmp_path, text), skip_bad=True)
    assert identity(store, "R1").names[0].forename == "Ambrose"  # the NUL is removed, never stored
    assert identity(store, "R3").dobs == []  # a DOB in the future is blanked; the names still identify
    warned = {(w.row, w.field): w for w in res.warnings}
    assert warned[(2, "forename")].action == "characters removed" and "U+0000" in warned[(2, "forename")].reason
    assert warned[(4, "date_of_birth")].action == "value blanked" and "future" in warned[(4, "date_of_birth")].reason
    refused = {e.row: e for e in res.errors if e.field in ("(row)", "forename")}
    # R2's forename is blanked (too long); the surname alone cannot identify anyone, so the row is refused
    assert {(e.row, e.field) for e in res.errors} == {(3, "(row)"), (3, "forename"), (5, "(row)"), (6, "(row)")}
    assert "longer than 512" in [e.reason for e in res.errors if e.field == "forename"][0]
    assert refused[5].reason.startswith("cannot identify anyone")
    assert "has 12 fields" in refused[6].reason
    assert (res.added, res.rejected) == (2, 3)


def test_aliases_and_alias_dobs_are_parsed(tmp_path):
    parsed = parse_csv(GOOD.encode())
    r2 = [r for r in parsed.rows if r.record_id == "R2"][0].identity
    assert [(n.forename, n.surname) for n in r2.names] == [("Lachlan", "McTavish"), ("Lachie", "Mack"), ("L", "Tavish")]
    assert [d.isoformat() for d in r2.dobs] == ["1975-01-30", "1975-02-01"]


def test_withdraw_missing(store, tmp_path):
    import_file(store, _write(tmp_path, GOOD))
    only_r1 = HEADER + "R1,Ambrose,,Tolliver,04/07/1983,,,,,,\n"
    res = import_file(store, _write(tmp_path, only_r1, name="full.csv"), withdraw_missing=True)
    assert res.withdrawn == 2
    assert store.get_record("R2")["status"] == "withdrawn"
    assert store.get_record("R1")["status"] == "active"


def test_dob_format_override(store, tmp_path):
    text = "record_id,forename,surname,date_of_birth\nR1,Ambrose,Tolliver,07/04/1983\n"
    parsed = parse_csv(text.encode(), dob_format="%m/%d/%Y")
    assert parsed.rows[0].identity.dobs[0].isoformat() == "1983-07-04"


@pytest.mark.parametrize("bad", [
    b"record_id,forename,surname,date_of_birth\nR1,Ambrose,Tolliver,04/07/1983\nR9,Jos\xe9,Ramirez,01/01/1980\n",
    # an unterminated quote would swallow R2 and R3 into one field: a CSV syntax error, not a short file
    b"record_id,forename,surname,date_of_birth\nR1,Ambrose,Tolliver,04/07/1983\nR9,\"Jos,Ramirez,01/01/1980\n"
    b"R2,Lachlan,McTavish,1975-01-30\nR3,Cedric,Harrowgate,9-Sep-1988\n",
    b"forename,surname,date_of_birth\nAmbrose,Tolliver,04/07/1983\n",
])
def test_skip_bad_never_skips_a_file_level_error_and_withdraws_nothing(store, tmp_path, bad):
    """--skip-bad skips bad rows; a file that cannot be read to its end (or has no usable header) is refused whole."""
    import_file(store, _write(tmp_path, GOOD))
    with pytest.raises(ImportRejectedError) as err:
        import_file(store, _write(tmp_path, bad, name="broken.csv"), skip_bad=True, withdraw_missing=True)
    assert any(e.field in ("(file)", "(header)") for e in err.value.errors)
    assert [store.get_record(r)["status"] for r in ("R1", "R2", "R3")] == ["active"] * 3
    with pytest.raises(ImportRejectedError):  # the in-memory path says the same
        from fedalert.node.importer import import_records

        import_records(store, parse_csv(bad), file_name="broken.csv", skip_bad=True, withdraw_missing=True)
    assert [store.get_record(r)["status"] for r in ("R1", "R2", "R3")] == ["active"] * 3
