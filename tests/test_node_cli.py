"""The node's operator commands as real subprocesses: import, status, backup, withdraw."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys


def fed(*args, timeout=60):
    return subprocess.run([sys.executable, "-m", "fedalert", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


CSV = "record_id,forename,surname,date_of_birth\nR1,Ambrose,Tolliver,04/07/1983\nR2,Silas,Moorcroft,01/02/1970\n"


def test_import_status_backup_withdraw(tmp_path):
    db, csv = tmp_path / "n.db", tmp_path / "export.csv"
    csv.write_text(CSV)
    r = fed("node", "import", csv, "--db", db)
    assert r.returncode == 0, r.stderr
    assert "2 added" in r.stdout
    st = json.loads(fed("node", "status", "--db", db).stdout)
    assert st["records_active"] == 2 and st["pending_publish"] == 2
    assert st["last_import"]["file"] == "export.csv"
    out = tmp_path / "copy.db"
    assert fed("node", "backup", "--db", db, "--out", out).returncode == 0
    assert sqlite3.connect(out).execute("SELECT count(*) FROM records").fetchone()[0] == 2
    again = fed("node", "backup", "--db", db, "--out", out)
    assert again.returncode != 0 and "exists" in again.stderr
    w = fed("node", "withdraw", "R1", "--db", db, "--reason", "closed")
    assert w.returncode == 0
    st = json.loads(fed("node", "status", "--db", db).stdout)
    assert st["records_withdrawn"] == 1
    missing = fed("node", "withdraw", "R9", "--db", db, "--reason", "closed")
    assert missing.returncode == 1 and "no active record" in missing.stderr


def test_bad_file_exit_code_and_report(tmp_path):
    db, csv, report = tmp_path / "n.db", tmp_path / "bad.csv", tmp_path / "rep.csv"
    csv.write_text(CSV + "R3,Bad,,31/02/1990\nR4,Kept,Person,31/02/1990\n")
    r = fed("node", "import", csv, "--db", db, "--report", report)
    assert r.returncode == 1
    assert "row 4, (row): cannot identify anyone" in r.stderr and "nothing imported" in r.stderr
    assert report.exists() and "cannot identify anyone" in report.read_text()
    assert "R4,date_of_birth" in report.read_text()  # the blanked value of a row that would have imported
    st = json.loads(fed("node", "status", "--db", db).stdout)
    assert st["records_active"] == 0
    ok = fed("node", "import", csv, "--db", db, "--skip-bad")
    assert ok.returncode == 0 and "3 added" in ok.stdout and "1 rejected" in ok.stdout
    assert "1 value(s) blanked or cleaned in 1 row(s), each row still imported: date_of_birth 1" in ok.stderr
    assert (tmp_path / "bad.csv.report.csv").exists()


def test_config_file_and_unknown_key(tmp_path):
    cfg = tmp_path / "node.toml"
    cfg.write_text('[node]\ndb = "state.db"\n')
    csv = tmp_path / "e.csv"
    csv.write_text(CSV)
    r = fed("node", "import", csv, "--config", cfg)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "state.db").exists()
    cfg.write_text('[node]\ndb = "state.db"\nshoe = 1\n')
    bad = fed("node", "status", "--config", cfg)
    assert bad.returncode == 2 and "unknown key" in bad.stderr
