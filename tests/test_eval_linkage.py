"""eval-linkage end to end on small synthetic areas (bench/make_people.py)."""

from __future__ import annotations

import argparse
import csv
import hashlib
import hmac
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from fedalert.evaluation import cli as eval_cli
from fedalert.evaluation.linkage import figures, link, token, true_pairs
from fedalert.node.identity import Identity, Name

ROOT = Path(__file__).resolve().parents[1]


def _load_make_people():
    spec = importlib.util.spec_from_file_location("make_people", ROOT / "bench" / "make_people.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_people"] = module  # dataclasses look the module up
    spec.loader.exec_module(module)
    return module


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="fedalert")
    eval_cli.register(parser.add_subparsers(dest="role", required=True))
    args = parser.parse_args(["eval-linkage", *argv])
    code = args.func(args)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def areas(tmp_path_factory) -> tuple[list[Path], Path]:
    out = tmp_path_factory.mktemp("uk")
    mp = _load_make_people()
    rows, truth = mp.make_areas(250, 3, seed=7)
    return mp.write(out, rows, truth), out / "truth.csv"


def test_token_formula_matches_interfaces():
    key = bytes(range(32))
    expected = hmac.new(key, b"fedalert/v1\x00k1\x00name_dob\x00ada\x1fexample\x1f19900102", hashlib.sha256).digest()[:16]
    assert token(key, "k1", "name_dob", "ada\x1fexample\x1f19900102") == expected


@pytest.mark.slow
def test_json_shape_and_quality(areas, capsys):
    files, truth = areas
    code, out, _err = run_cli([*map(str, files), "--truth", str(truth), "--json"], capsys)
    assert code == 0
    result = json.loads(out)  # --json prints only the JSON object
    assert set(result) == {"overall", "tiers", "tokens_per_record", "seconds"}
    assert set(result["tiers"]) == {"high", "medium", "low"}
    for fig in [result["overall"], *result["tiers"].values()]:
        assert set(fig) == {"precision", "recall", "f1", "pairs"}
    tiers = result["tiers"]
    # Tier figures count pairs at that tier or above.
    assert tiers["high"]["pairs"] <= tiers["medium"]["pairs"] <= tiers["low"]["pairs"] == result["overall"]["pairs"]
    assert tiers["high"]["precision"] >= 0.99
    assert result["overall"]["precision"] >= 0.97 and result["overall"]["recall"] >= 0.8
    assert 10 < result["tokens_per_record"] < 150


@pytest.mark.slow
def test_pairs_file_agrees_with_the_printed_figures(areas, capsys, tmp_path):
    files, truth_path = areas
    out = tmp_path / "pairs.csv"
    code, printed, err = run_cli([*map(str, files), "--truth", str(truth_path), "--json", "--pairs", str(out)], capsys)
    assert code == 0 and f"pairs written to {out}" in err
    result = json.loads(printed)
    with out.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        assert next(reader) == ["area_a", "record_id_a", "area_b", "record_id_b", "tier", "score"]
        rows = list(reader)
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    ids = {f.stem: {r["record_id"] for r in csv.DictReader(f.open(encoding="utf-8"))} for f in files}
    assert all(r[1] in ids[r[0]] and r[3] in ids[r[2]] and r[0] != r[2] for r in rows)
    assert len({(r[0], r[1], r[2], r[3]) for r in rows}) == len(rows) == result["overall"]["pairs"]
    # Score the file with our own few lines, as an outsider would: the same figures come out.
    with truth_path.open(encoding="utf-8") as fh:
        person = {r["record_id"]: r["person_id"] for r in csv.DictReader(fh)}
    true = {tuple(sorted([(a, ra), (b, rb)])) for a in ids for b in ids if a < b
            for ra in ids[a] for rb in ids[b] if person[ra] == person[rb]}
    order = {"low": 0, "medium": 1, "high": 2}
    for tier, want in [("low", result["overall"]), *result["tiers"].items()]:
        got = {tuple(sorted([(r[0], r[1]), (r[2], r[3])])) for r in rows if order[r[4]] >= order[tier]}
        hits = len(got & true)
        assert len(got) == want["pairs"]
        assert round(hits / len(got), 5) == want["precision"] and round(hits / len(true), 5) == want["recall"]
    assert all(float(r[5]) > 0 for r in rows)


@pytest.mark.slow
def test_text_report(areas, capsys):
    files, truth = areas
    code, out, _ = run_cli([*map(str, files), "--truth", str(truth)], capsys)
    assert code == 0
    assert "overall" in out and ">= high" in out and "tokens per record" in out
    assert "largest share of one token value per kind" in out


@pytest.mark.slow
def test_threshold_changes_pairs(areas, capsys):
    files, truth = areas
    _, low, _ = run_cli([*map(str, files), "--truth", str(truth), "--json", "--threshold", "10"], capsys)
    _, high, _ = run_cli([*map(str, files), "--truth", str(truth), "--json", "--threshold", "40"], capsys)
    assert json.loads(low)["overall"]["pairs"] > json.loads(high)["overall"]["pairs"]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_extra_columns_and_invalid_values_warn_but_rows_count(tmp_path, capsys):
    header = ["record_id", "forename", "surname", "date_of_birth", "pnc_id", "favourite_colour"]
    a = _write(tmp_path / "alpha.csv", header, [["r1", "Ada", "Example", "31/02/1990", "91/1234B", "blue"],
                                                ["r2", "Zed", "Sample", "02/01/1990", "", "red"]])
    b = _write(tmp_path / "beta.csv", header, [["r3", "Zed", "Sample", "1990-01-02", "", "green"]])
    truth = _write(tmp_path / "truth.csv", ["record_id", "person_id"], [["r1", "p1"], ["r2", "p2"], ["r3", "p2"]])
    code, out, err = run_cli([str(a), str(b), "--truth", str(truth), "--json"], capsys)
    assert code == 0
    assert "favourite_colour" in err
    assert "31/02/1990 is not a real date" in err and "value blanked" in err
    assert "check letter" in err
    result = json.loads(out)
    assert result["overall"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "pairs": 1}


def test_only_cross_area_pairs_are_scored():
    same = Identity([Name("Ada", "", "Example")], [])
    import datetime

    same.dobs = [datetime.date(1990, 1, 2)]
    records = {"alpha": {"r1": same, "r2": same}, "beta": {"r3": same}}
    pairs = {p for p, v in link(records)}
    assert pairs == {(("alpha", "r1"), ("beta", "r3")), (("alpha", "r2"), ("beta", "r3"))}
    truth = {"r1": "p", "r2": "p", "r3": "p"}
    assert len(true_pairs({a: list(r) for a, r in records.items()}, truth)) == 2


def test_figures():
    tp = {(("a", "1"), ("b", "1")), (("a", "2"), ("b", "2"))}
    f = figures({(("a", "1"), ("b", "1")), (("a", "3"), ("b", "3"))}, tp)
    assert (f.precision, f.recall, f.f1, f.pairs) == (0.5, 0.5, 0.5, 2)


def test_duplicate_area_names_refused(tmp_path, capsys):
    from fedalert.errors import UsageError

    (tmp_path / "x").mkdir()
    a = _write(tmp_path / "alpha.csv", ["record_id"], [["r1"]])
    b = _write(tmp_path / "x" / "alpha.csv", ["record_id"], [["r2"]])
    truth = _write(tmp_path / "truth.csv", ["record_id", "person_id"], [])
    with pytest.raises(UsageError):
        run_cli([str(a), str(b), "--truth", str(truth)], capsys)


@pytest.mark.slow
def test_make_people_subprocess_writes_areas_and_truth(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "make_people.py"), "--out", str(tmp_path), "--per-area", "120", "--seed", "3"],
        capture_output=True, text=True, timeout=120, check=True,
    )
    assert "truth.csv" in proc.stdout
    ids = []
    for area in ("north", "south", "west"):
        with (tmp_path / f"{area}.csv").open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        assert len(rows) == 120
        ids += [r["record_id"] for r in rows]
    assert len(set(ids)) == len(ids)
    with (tmp_path / "truth.csv").open(encoding="utf-8") as fh:
        truth = {r["record_id"]: r["person_id"] for r in csv.DictReader(fh)}
    assert set(truth) == set(ids)
    # Some people have records in two areas, and record ids say nothing about people.
    assert len(set(truth.values())) < len(ids)
    assert not any(rid in pid or pid in rid for rid, pid in truth.items())


@pytest.mark.slow
def test_make_people_includes_the_hard_cases():
    mp = _load_make_people()
    import random

    people = mp.make_population(3000, ["north", "south", "west"], random.Random(5))
    by_home: dict[int, list] = {}
    for p in people:
        by_home.setdefault(id(p.home), []).append(p)
    twins = [h for h in by_home.values() if any(a.dob == b.dob and a.forename != b.forename
                                                for i, a in enumerate(h) for b in h[i + 1:])]
    juniors = [h for h in by_home.values() if any(a.forename == b.forename and a.dob != b.dob
                                                  for i, a in enumerate(h) for b in h[i + 1:])]
    assert twins and juniors
    assert any("-" in p.surname for p in people) and any(p.surname in ("obrien", "macdonald", "mcleod") for p in people)


def test_engine_path_agrees_with_in_memory_reference(areas):
    """eval-linkage runs the matcher's real Engine; it must alert exactly the
    pairs the in-memory reference scores above threshold, at the same tiers."""
    from fedalert.evaluation._csv import read_area
    from fedalert.evaluation.linkage import engine_link

    paths, _ = areas
    records = {p.stem: read_area(p, lambda _w: None) for p in paths}
    key = b"k" * 32
    via_engine = {p: v.tier for p, v in engine_link(records, key=key)}
    reference = {p: v.tier for p, v in link(records, key=key) if v.tier is not None}
    assert via_engine and via_engine == reference
    assert all(a[0] != b[0] for a, b in via_engine)


def test_eval_linkage_console_script(areas):
    """The real console script, as a subprocess."""
    paths, truth = areas
    res = subprocess.run([sys.executable, "-m", "fedalert", "eval-linkage", *map(str, paths), "--truth", str(truth),
                          "--json"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert set(doc) >= {"overall", "tiers", "tokens_per_record", "seconds"}
    assert doc["overall"]["precision"] >= 0.99 and doc["overall"]["recall"] > 0.8
