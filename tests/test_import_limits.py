"""Import limits (issue 14, item 6): wide headers, long lines, hostile characters, echoed values.

Real files and a real SQLite store; no timing is asserted (the header
checks are linear, and a header over the cap is refused before any row is
read). Every person and value here is invented.
"""

from __future__ import annotations

import csv
import io

import pytest

from fedalert.echo import ECHO_CHARS, echo
from fedalert.node import importer
from fedalert.node.errors import ImportRejectedError
from fedalert.node.records import identity_from_json
from fedalert.node.store import NodeStore


@pytest.fixture
def store(tmp_path):
    s = NodeStore(tmp_path / "node.db")
    yield s
    s.close()


def _file(tmp_path, header, rows, name="in.csv"):
    path = tmp_path / name
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_a_header_over_the_column_cap_is_refused_with_a_short_error(store, tmp_path):
    header = ["record_id", "forename", "surname"] + [f"c{i}" for i in range(100_000)]  # about 700 KB, like the reported file
    path = _file(tmp_path, header, [["R1", "Ann", "Example"] + [""] * 100_000])
    with pytest.raises(ImportRejectedError) as err:
        importer.import_file(store, path, skip_bad=True)
    assert [(e.row, e.field) for e in err.value.errors] == [(1, "(header)")]
    assert f"100003 columns; at most {importer.MAX_COLUMNS}" in err.value.errors[0].reason
    assert len(str(err.value)) < 400
    assert store.get_record("R1") is None


def test_unknown_and_duplicate_columns_are_named_briefly(store, tmp_path):
    n = importer.MAX_COLUMNS - 3
    header = ["record_id", "forename", "surname"] + [f"c{i}_" + "x" * 200 for i in range(n)]
    res = importer.import_file(store, _file(tmp_path, header, [["R1", "Ann", "Example"] + ["v"] * n]))
    assert res.added == 1
    [note] = res.notes
    assert note.endswith(f"and {n - importer.SHOWN_COLUMNS} more") and len(note) < 2000
    assert "x" * (ECHO_CHARS + 1) not in note  # each name cut to 64 characters
    dup = ["record_id", "forename", "surname"] + ["same\u202ename"] * 2 + [f"d{i}" for i in range(50)] * 2
    with pytest.raises(ImportRejectedError) as err:
        importer.import_file(store, _file(tmp_path, dup, [], name="dup.csv"))
    reason = err.value.errors[0].reason
    assert reason.startswith("duplicate column(s): ") and "and 31 more" in reason and "\u202e" not in reason
    assert "same\\u202ename" in reason


def test_a_line_over_the_line_cap_is_a_file_error(store, tmp_path):
    wide = ["record_id", "forename", "surname"] + [f"n{i}" for i in range(600)]
    path = _file(tmp_path, wide, [["R1", "Ann", "Example"] + ["z" * 2000] * 600])  # one line of 1.2M characters
    with pytest.raises(ImportRejectedError) as err:
        importer.import_file(store, path, skip_bad=True)
    assert [(e.row, e.field) for e in err.value.errors] == [(2, "(file)")]
    assert f"line 2 is longer than {importer.MAX_LINE_CHARS} characters" in err.value.errors[0].reason


BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def test_control_bidi_and_newlines_are_removed_with_a_warning_and_the_row_imports(store, tmp_path):
    header = ["record_id", "forename", "middle_names", "surname", "aliases", "address", "pnc_id"]
    rows = [["R1", "Ann\u202e", "Mary\nJo", "Exa\u2066mple\u2069", "Annie\tExample", "12 Example St\u202e\rLeeds",
             "91/1234A\u200f"],
            ["R2", "Bea" + BIDI + "\x1b[31m", "", "Sam\u2028ple", "", "", ""]]
    path = _file(tmp_path, header, rows)
    res = importer.import_file(store, path)
    assert res.added == 2
    r1 = identity_from_json(store.get_record("R1")["identity"])
    assert [(n.forename, n.middle_names, n.surname) for n in r1.names] == [
        ("Ann", "Mary Jo", "Example"), ("Annie", "", "Example")]
    assert (r1.address, r1.pnc_id) == ("12 Example St Leeds", "91/1234A")  # the PNC, cleaned, is valid
    r2 = identity_from_json(store.get_record("R2")["identity"])
    assert (r2.names[0].forename, r2.names[0].surname) == ("Bea[31m", "Sam ple")
    stored = store.get_record("R1")["identity"] + store.get_record("R2")["identity"]
    assert not any(ch in stored for ch in BIDI + "\x1b\n\r\t\u2028")
    by = {(w.record_id, w.field): w for w in res.warnings}
    assert set(by) == {("R1", "forename"), ("R1", "middle_names"), ("R1", "surname"), ("R1", "aliases"),
                       ("R1", "address"), ("R1", "pnc_id"), ("R2", "forename"), ("R2", "surname")}
    assert all(w.action == "characters removed" for w in by.values())
    assert by[("R1", "forename")].reason == "control, bidi or line-break characters (U+202E)"
    assert by[("R2", "forename")].reason.endswith("(U+202A, U+202B, U+202C, U+202D, U+202E, U+2066, U+2067, "
                                                  "U+2068 and 5 more)")
    report = tmp_path / "r.csv"
    importer.write_report(res.report, report)
    assert not any(ch in report.read_text(encoding="utf-8") for ch in BIDI + "\x1b")


def test_values_echoed_in_messages_are_cut_and_escaped():
    assert echo("91/1234B") == "91/1234B"
    assert echo("x" * 100) == "x" * ECHO_CHARS + "..."
    assert echo("a\u202eb\nc\x1b") == "a\\u202eb\\x0ac\\x1b"
    assert echo("Séan Ó Brádaigh") == "Séan Ó Brádaigh"  # printable letters stay as typed
    parsed = importer.parse_csv(("record_id,forename,surname,pnc_id,date_of_birth\n"
                                 f"R1,Ann,Example,{'9' * 400}B,{'1' * 300}\n").encode())
    reasons = [w.reason for w in parsed.warnings]
    assert len(reasons) == 2 and all(len(r) < 64 + 80 for r in reasons), reasons


def test_the_report_keeps_the_first_n_in_full_and_counts_the_rest(tmp_path):
    report = importer.ImportReport(keep=5)  # the real figure is importer.KEEP (1,000); 5 keeps the test small
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["record_id", "forename", "surname", "date_of_birth"])
    for i in range(40):
        w.writerow([f"R{i}", "Ann", "Example" if i % 2 else "", "31/02/1990"])  # odd: blanked DOB; even: refused
    rows = list(importer.read_rows(io.StringIO(buf.getvalue()), report, importer._MemorySeen(set())))
    assert len(rows) == 20
    assert (report.n_errors, report.bad_rows, report.n_warnings) == (40, 20, 20)  # refused rows: (row) + DOB
    assert (len(report.errors), len(report.warnings)) == (5, 5)
    out = tmp_path / "report.csv"
    importer.write_report(report, out)
    lines = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(lines) == 12
    assert [r["reason"] for r in lines[-2:]] == ["35 more error(s) not listed; the first 5 are",
                                                 "15 more warning(s) not listed; the first 5 are"]
