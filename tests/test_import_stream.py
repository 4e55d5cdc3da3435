"""`fedalert node import` streams: its memory does not grow with the file, nor with its problems.

A real `fedalert node import` subprocess imports a small file and a file
about 20 times larger (about 80 MB, twice the bound below); the peak
RSS of each (VmHWM, read from /proc while it runs) is compared. Reading the
file whole, as the importer used to, costs at least the file's size twice
(bytes and decoded text), so the large import would peak far above the small
one. No timing is asserted.
"""

from __future__ import annotations

import csv
import os
import sqlite3
import subprocess
import time

import pytest

from fedalert.procs import fedalert_cmd

pytestmark = pytest.mark.slow

#: Allowed growth of the importer's peak RSS from the small file to the large one.
GROWTH_BOUND_MB = 40
FILLER = "Flat " * 95  # long (but valid, under 512 characters) fields make rows big without making them many
MIDDLE = "Mary " * 95


def _write(path, rows: int) -> int:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["record_id", "forename", "middle_names", "surname", "date_of_birth", "address"])
        for i in range(rows):
            w.writerow([f"R{i:08d}", f"Ann{i % 977}", MIDDLE, f"Example{i % 1013}", f"19{50 + i % 50}-0{1 + i % 9}-1{i % 9}",
                        f"{1 + i % 300} {FILLER}Street"])
    return path.stat().st_size


def _peak_rss_mb(csv_path, db, *flags: str) -> float:
    p = subprocess.Popen(fedalert_cmd("node", "import", str(csv_path), "--db", str(db), *flags),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    peak, deadline = 0, time.monotonic() + 900
    while p.poll() is None and time.monotonic() < deadline:
        try:
            with open(f"/proc/{p.pid}/status", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.02)
    if p.poll() is None:
        p.kill()
    _, err = p.communicate(timeout=30)
    assert p.returncode == 0, err.decode()[-2000:]
    return peak / 1024


def _count(db) -> int:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT count(*) FROM records WHERE status='active'").fetchone()[0]
    finally:
        con.close()


def test_import_memory_does_not_grow_with_the_file(tmp_path):
    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    small_bytes = _write(small, 4_000)
    large_bytes = _write(large, 80_000)
    assert large_bytes > 75 * 1024 * 1024 and large_bytes > 15 * small_bytes

    peak_small = _peak_rss_mb(small, tmp_path / "small.db")
    peak_large = _peak_rss_mb(large, tmp_path / "large.db")

    assert _count(tmp_path / "large.db") == 80_000  # every row imported
    assert peak_small > 0 and peak_large > 0, "could not read the importer's VmHWM"
    assert peak_large - peak_small < GROWTH_BOUND_MB, (
        f"importer peak RSS {peak_small:.0f} MB for a {small_bytes >> 20} MB file but {peak_large:.0f} MB "
        f"for a {large_bytes >> 20} MB file: it holds the file in memory")
    os.unlink(large)


def _write_bad(path, rows: int) -> None:
    """Every row has a problem: even rows cannot identify anyone (refused, two errors each), odd rows carry
    two values that are blanked (two warnings each). Values are long, to make echoed messages costly."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["record_id", "forename", "surname", "date_of_birth", "pnc_id", "address"])
        for i in range(rows):
            if i % 2:
                w.writerow([f"R{i:08d}", f"Ann{i % 977}", f"Example{i % 1013}", f"31/02/19{50 + i % 50}",
                            f"91/{i % 9999:04d}{'9' * 40}Z", FILLER])
            else:
                w.writerow([f"R{i:08d}", f"Ann{i % 977}", "", "01/01/1990", f"{'8' * 60}Q", FILLER])


def test_import_memory_does_not_grow_with_bad_rows_or_warnings(tmp_path):
    """Before the report was bounded, every error and warning was kept whole: 2M bad rows cost 628 MB."""
    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    _write_bad(small, 4_000)
    _write_bad(large, 300_000)  # 300,000 refused-row errors and 300,000 warnings
    peak_small = _peak_rss_mb(small, tmp_path / "small.db", "--skip-bad")
    peak_large = _peak_rss_mb(large, tmp_path / "large.db", "--skip-bad")
    assert _count(tmp_path / "large.db") == 150_000  # every row that identifies someone imported
    with open(large.with_name("large.csv.report.csv"), encoding="utf-8") as fh:
        report = list(csv.reader(fh))
    assert len(report) == 1 + 1000 + 1000 + 2  # header, the first 1,000 of each, two "more" lines
    assert report[-2][3] == "299000 more error(s) not listed; the first 1000 are"
    assert report[-1][3] == "299000 more warning(s) not listed; the first 1000 are"
    assert peak_small > 0 and peak_large > 0, "could not read the importer's VmHWM"
    assert peak_large - peak_small < GROWTH_BOUND_MB, (
        f"importer peak RSS {peak_small:.0f} MB with 4,000 bad rows but {peak_large:.0f} MB with 300,000: "
        "it keeps every problem in memory")
