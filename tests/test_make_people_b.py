"""bench/make_people_b.py: structure and bookkeeping of the independent record generator.

Runs the generator as a real subprocess at a small size and checks the files,
the truth file, determinism, movers, planted hard negatives and that every
phenomenon of the error model occurs at about its stated rate (counted from
the generator's own manifest, and where possible confirmed in the CSV text).
This is not a matching test: nothing here links records.
"""

from __future__ import annotations

import csv
import datetime
import importlib
import json
import math
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
SCRIPT = BENCH / "make_people_b.py"
AREAS, PER_AREA, SEED = 3, 1500, 7
COLUMNS = ["record_id", "forename", "middle_names", "surname", "date_of_birth", "aliases", "alias_dobs",
           "pnc_id", "chi_number", "ni_number", "phone", "email", "postcode", "address"]


def _bench_module(name: str):
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module(name)


def _run(out: Path, seed: int, manifest: Path | None = None, areas: int = AREAS, per_area: int = PER_AREA):
    cmd = [sys.executable, str(SCRIPT), "--out", str(out), "--areas", str(areas), "--per-area", str(per_area),
           "--seed", str(seed)]
    if manifest:
        cmd += ["--manifest", str(manifest)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("people_b")
    summary = _run(base / "a", SEED, base / "manifest.json")
    manifest = json.loads((base / "manifest.json").read_text(encoding="utf-8"))
    rows = {}
    for area in summary["areas"]:
        with open(base / "a" / f"{area}.csv", newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            assert reader.fieldnames == COLUMNS
            rows[area] = list(reader)
    with open(base / "a" / "truth.csv", newline="", encoding="utf-8") as fh:
        truth = list(csv.DictReader(fh))
    return {"base": base, "summary": summary, "manifest": manifest, "rows": rows, "truth": truth}


def _all_rows(run) -> dict[str, dict]:
    return {r["record_id"]: r for area_rows in run["rows"].values() for r in area_rows}


# ---------------------------------------------------------------- structure


def test_one_file_per_area_with_the_canonical_columns_and_size(run):
    assert sorted(p.name for p in (run["base"] / "a").iterdir()) == sorted(
        [f"{a}.csv" for a in run["summary"]["areas"]] + ["truth.csv"])
    assert len(run["rows"]) == AREAS
    for area, rows in run["rows"].items():
        assert len(rows) == PER_AREA, area
    ids = [r["record_id"] for rows in run["rows"].values() for r in rows]
    assert len(ids) == len(set(ids)) == AREAS * PER_AREA
    assert all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}", i) for i in ids)


def test_truth_covers_every_record_once(run):
    truth = run["truth"]
    assert [list(t) for t in truth[:1]] == [["record_id", "person_id"]]
    by_record = {t["record_id"]: t["person_id"] for t in truth}
    assert len(by_record) == len(truth)
    assert set(by_record) == set(_all_rows(run))
    persons = set(by_record.values())
    assert len(persons) == run["summary"]["persons"]
    assert persons == set(run["manifest"]["persons"])
    for rid, rec in run["manifest"]["records"].items():
        assert by_record[rid] == rec["person_id"]


def test_same_seed_same_files_other_seed_other_files(run, tmp_path):
    _run(tmp_path / "same", SEED)
    _run(tmp_path / "other", SEED + 1)
    for name in [f"{a}.csv" for a in run["summary"]["areas"]] + ["truth.csv"]:
        first = (run["base"] / "a" / name).read_bytes()
        assert (tmp_path / "same" / name).read_bytes() == first, name
        assert (tmp_path / "other" / name).read_bytes() != first, name


def test_rows_are_shuffled_not_in_person_order(run):
    order = {pid: i for i, pid in enumerate(run["manifest"]["persons"])}
    records = run["manifest"]["records"]
    for area, rows in run["rows"].items():
        ranks = [order[records[r["record_id"]]["person_id"]] for r in rows]
        n = len(ranks)
        mean_i, mean_r = (n - 1) / 2, sum(ranks) / n
        cov = sum((i - mean_i) * (r - mean_r) for i, r in enumerate(ranks))
        sd_i = math.sqrt(sum((i - mean_i) ** 2 for i in range(n)))
        sd_r = math.sqrt(sum((r - mean_r) ** 2 for r in ranks))
        assert abs(cov / (sd_i * sd_r)) < 0.1, area


def test_record_ids_carry_no_meaning(run):
    # not a counter, not the person id, not the area name
    for area, rows in run["rows"].items():
        for r in rows[:200]:
            rid = r["record_id"]
            assert not rid.isdigit() and area not in rid.lower()
            assert run["manifest"]["records"][rid]["person_id"] not in rid


def test_every_area_count_and_bad_area_count_is_refused(tmp_path):
    done = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path), "--areas", "0"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--areas must be between 1 and" in done.stderr
    summary = _run(tmp_path / "four", 3, areas=4, per_area=250)
    assert len(summary["areas"]) == 4 and summary["records"] == 1000


# ---------------------------------------------------------------- movers and hard negatives


def test_people_known_to_more_than_one_area(run):
    persons = run["manifest"]["persons"]
    areas_of = defaultdict(set)
    for rec in run["manifest"]["records"].values():
        areas_of[rec["person_id"]].add(rec["area"])
    movers = [pid for pid, areas in areas_of.items() if len(areas) > 1]
    share = len(movers) / len(persons)
    assert 0.11 < share < 0.19, share  # stated: 15% of persons
    assert any(len(areas_of[pid]) == 3 for pid in movers)
    moved = [p for p in persons.values() if len(p["life"]) > 1
             and p["life"][1]["household"] != p["life"][0]["household"]]
    assert len(moved) > 0.5 * len(movers)  # people move between the areas that know them


def test_planted_hard_negatives_are_what_they_claim(run):
    persons = run["manifest"]["persons"]
    groups = run["manifest"]["groups"]
    kinds = Counter(g["type"] for g in groups)
    expected = {kind: round(run["manifest"]["rates"][f"group_{kind}"]["rate"] * round(AREAS * PER_AREA / 1.2))
                for kind in ("twins", "father_son", "siblings", "spouses", "common_name_same_dob")}
    assert dict(kinds) == expected
    cross = 0
    for g in groups:
        a, b = (persons[pid] for pid in g["persons"])
        assert a is not b and g["persons"][0] != g["persons"][1]
        cross += bool({lf["area"] for lf in a["life"]} ^ {lf["area"] for lf in b["life"]}
                      or a["life"][0]["area"] != b["life"][0]["area"])
        first_home = a["life"][0]["household"] == b["life"][0]["household"]
        if g["type"] == "twins":
            assert a["dob"] == b["dob"] and a["given"][0] != b["given"][0] and first_home
            if a["sex"] == b["sex"]:
                assert a["surname"] == b["surname"]
        elif g["type"] == "father_son":
            assert a["given"][0] == b["given"][0] and a["surname"] == b["surname"] and b["junior"]
            gap = (datetime.date.fromisoformat(b["dob"]) - datetime.date.fromisoformat(a["dob"])).days / 365.25
            assert 17.9 < gap < 36
        elif g["type"] == "siblings":
            assert a["dob"] != b["dob"] and a["given"][0] != b["given"][0]
        elif g["type"] == "spouses":
            assert a["sex"] == "M" and b["sex"] == "F"
            if b["new_surname"] and "spouse_took_surname" in b["tags"]:
                assert b["new_surname"] in (a["surname"], a["surname"][:-1] + "a") or a["pool"] == "lithuanian"
            if first_home:
                assert a["life"][0]["landline"] and a["life"][0]["landline"] == b["life"][0]["landline"]
        else:
            assert a["dob"] == b["dob"] and a["given"][0] == b["given"][0] and a["surname"] == b["surname"]
            assert not first_home
    assert cross / len(groups) > 0.6  # stated: 75% of pairs span two areas


# ---------------------------------------------------------------- rates


def test_manifest_rates_are_the_stated_table(run):
    rates = _bench_module("_people_b_rates").RATES
    assert set(run["manifest"]["rates"]) == set(rates)
    for name, rate in rates.items():
        assert run["manifest"]["rates"][name]["rate"] == rate.p
        assert rate.why and rate.unit


def test_every_phenomenon_occurs_at_about_its_stated_rate(run):
    checked = 0
    for name, r in run["manifest"]["rates"].items():
        n, k, p = r["eligible"], r["applied"], r["rate"]
        assert n > 0, f"{name} never had an eligible case"
        if n < 30:
            continue
        tolerance = 4 * math.sqrt(p * (1 - p) / n) + 0.02
        assert abs(k / n - p) <= tolerance, f"{name}: {k}/{n} = {k / n:.3f}, stated {p}"
        checked += 1
    assert checked > 80


def test_record_tags_agree_with_the_counts(run):
    """Tags on records are the per-record bookkeeping: their totals equal the applied counts."""
    rates = run["manifest"]["rates"]
    tags = Counter(t for rec in run["manifest"]["records"].values() for t in rec["tags"])
    record_level = [name for name in rates if not name.startswith(("person_", "group_", "household_"))
                    and name not in ("record_source_police", "alias_moniker_with_surname")]
    for name in record_level:
        assert tags[name] == rates[name]["applied"], name


def test_docstring_states_every_rate(run):
    doc = _bench_module("make_people_b").__doc__
    for name, rate in _bench_module("_people_b_rates").RATES.items():
        m = re.search(rf"^\s+{name}\s+([\d.]+)%", doc, re.M)
        assert m, f"{name} is not in the generator's docstring"
        assert math.isclose(float(m.group(1)), rate.p * 100), name


# ---------------------------------------------------------------- the phenomena, seen in the CSV text


_FORMATS = ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%y", "%Y-%m-%d", "%d-%b-%Y", "%d %B %Y", "%d/%m/%y", "%Y%m%d",
            "%Y-%m-%d 00:00:00"]


def _parse(cell: str) -> datetime.date:
    for fmt in _FORMATS:
        try:
            d = datetime.datetime.strptime(cell.strip(), fmt).date()
        except ValueError:
            continue
        if "%y" in fmt and d.year > 2025:
            d = d.replace(year=d.year - 100)
        return d
    raise AssertionError(f"unreadable date {cell!r}")


def _pnc_valid(text: str) -> bool:
    m = re.fullmatch(r"(\d{2}|\d{4})/(\d{1,7})([A-Z])", text)
    year = m.group(1)[-2:]
    return "ZABCDEFGHJKLMNPQRTUVWXY"[int(year + m.group(2).zfill(7)) % 23] == m.group(3)


_AREA_LETTERS = r"(NM|RX|EV|KE|KB|GX|WB|WJ|SH|SX|MF|MX|FM|FX|LW|LX)"
_LANDLINE_CODES = ("113", "114", "115", "116", "117", "118", "121", "131", "141", "151", "161", "191", "20",
                   "29", "1632")  # the dialling codes of Ofcom's drama ranges the generator uses


def _national_digits(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    return digits[2:] if digits.startswith("44") else digits.lstrip("0")


def test_corruptions_are_visible_in_the_files(run):
    rows, records, persons = _all_rows(run), run["manifest"]["records"], run["manifest"]["persons"]
    seen = Counter()
    for rid, rec in records.items():
        row, tags, person = rows[rid], set(rec["tags"]), persons[rec["person_id"]]
        dob_tags = {t for t in tags if t.startswith("dob_")}
        if row["date_of_birth"]:
            d = _parse(row["date_of_birth"])
            true = datetime.date.fromisoformat(person["dob"])
            if "dob_placeholder_1900" in tags:
                assert d in (datetime.date(1900, 1, 1), datetime.date(2000, 1, 1)), row["date_of_birth"]
                seen["placeholder"] += 1
            elif "dob_year_only" in tags:
                assert (d.month, d.day) == (1, 1)
            elif dob_tags <= {"dob_timestamp"} and not re.search(r"\b\d{2}$", row["date_of_birth"].strip()):
                assert d == true, (rid, row["date_of_birth"], true)
            elif dob_tags == {"dob_day_month_swap"} and len(row["date_of_birth"]) >= 8:
                assert (d.day, d.month, d.year) == (true.month, true.day, true.year)
                seen["swap"] += 1
        else:
            assert tags & {"missing_dob_police", "missing_dob_council"}
        if row["pnc_id"]:
            corrupt = tags & {"pnc_bad_check", "pnc_digit_typo"}
            if "pnc_bad_check" in tags and "pnc_digit_typo" not in tags:
                assert not _pnc_valid(row["pnc_id"])
                seen["bad_check"] += 1
            elif not corrupt:
                assert _pnc_valid(row["pnc_id"]), row["pnc_id"]
        if "record_nfa" in tags:
            assert re.search(r"n\.?\s?f\.?\s?a|no fixed", row["address"], re.I)
            assert row["postcode"] == "" or re.search(r"n\.?f\.?a", row["postcode"], re.I)
            seen["nfa"] += 1
        if "name_initial_only" in tags and not tags & {"name_swap", "name_swap_chinese", "missing_forename"}:
            assert re.fullmatch(r"\w\.?", row["forename"].split()[0] if row["forename"].split() else "")
        if row["ni_number"]:
            assert re.sub(r"\s", "", row["ni_number"])[:2] in ("QQ", "TN")
        if row["email"]:
            assert row["email"].lower().split("@")[1].split(".")[-1] == "example"
        if row["phone"]:
            assert _national_digits(row["phone"]).startswith(("7700",) + _LANDLINE_CODES), row["phone"]
        if row["postcode"] and not tags & {"postcode_typo", "postcode_outward_only", "record_nfa"}:
            assert re.fullmatch(_AREA_LETTERS + r"\d{1,2} ?\d[ABDEFGHJLNPQRSTUWXYZ]{2}", row["postcode"].upper()), \
                row["postcode"]
    assert seen["placeholder"] and seen["swap"] and seen["bad_check"] and seen["nfa"]


@pytest.mark.parametrize("seed", [SEED + 2, SEED + 3])
def test_every_value_stays_in_invented_or_reserved_spaces(tmp_path, seed):
    """Whatever the corruption: e-mail under .example, NI numbers QQ (or a DOB-built TN),
    phones in the 07700 block or the drama exchanges, postcodes in invented areas."""
    summary = _run(tmp_path, seed)
    for area in summary["areas"]:
        with open(tmp_path / f"{area}.csv", newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if row["email"]:
                    assert row["email"].strip().lower().rsplit(".", 1)[1] == "example", row["email"]
                if row["ni_number"]:
                    assert re.sub(r"\s", "", row["ni_number"])[:2] in ("QQ", "TN"), row["ni_number"]
                if row["phone"]:
                    assert _national_digits(row["phone"]).startswith(("7700",) + _LANDLINE_CODES), row["phone"]
                postcode = row["postcode"].strip().upper()
                if postcode and not re.fullmatch(r"N\.?F\.?A( NFA)?", postcode):
                    assert re.match(_AREA_LETTERS, postcode), row["postcode"]  # typos never touch the area


def test_every_phenomenon_of_the_brief_is_present(run):
    tags = Counter(t for rec in run["manifest"]["records"].values() for t in rec["tags"])
    person_tags = Counter(t for p in run["manifest"]["persons"].values() for t in p["tags"])
    for tag in ("record_nfa", "name_known_by_middle", "name_nickname", "name_nickname_habit",
                "name_variant_forename", "name_variant_surname", "name_spelling_forename", "name_typo_forename",
                "name_typo_surname", "name_phonetic_surname", "name_double_surname_partial", "name_mc_o_variant",
                "name_particle_variant", "name_swap", "name_initial_only", "name_diacritics_stripped",
                "name_old_surname_used", "name_junior_suffix", "name_somali_element", "name_sikh_order",
                "name_primary_is_alias", "alias_shown_police", "alias_dob_shown_police", "dob_placeholder_1900",
                "dob_year_only", "missing_dob_police", "missing_dob_council", "dob_day_month_swap",
                "dob_digit_typo", "dob_timestamp", "pnc_bad_check", "pnc_digit_typo", "ni_no_suffix", "ni_typo",
                "phone_household_shared", "phone_other_person", "phone_leading_zero_lost", "record_moved",
                "record_mobile_changed", "record_email_changed", "email_typo", "email_case", "extra_whitespace",
                "postcode_typo", "postcode_outward_only", "nfa_postcode_column", "missing_postcode_police",
                "missing_address_police", "chi_shown_scottish_council"):
        assert tags[tag] > 0, tag
    for tag in ("person_moniker", "person_surname_change", "person_old_surname_alias", "person_false_name",
                "person_alias_dob", "person_known_by_middle", "person_hyphenated_surname",
                "person_in_area_duplicate", "person_multi_area", "person_three_areas"):
        assert person_tags[tag] > 0, tag
    pools = Counter(p["pool"] for p in run["manifest"]["persons"].values())
    assert {"british", "irish", "polish", "south_asian_muslim", "sikh", "somali", "west_african", "chinese",
            "arabic"} <= set(pools)
    assert pools["british"] / sum(pools.values()) > 0.6


def test_names_have_a_heavy_head_and_a_long_tail(run):
    surnames = Counter(p["surname"] for p in run["manifest"]["persons"].values())
    total = sum(surnames.values())
    assert surnames.most_common(1)[0][0] == "Smith"
    top10 = sum(c for _, c in surnames.most_common(10)) / total
    assert 0.04 < top10 < 0.15, top10
    assert sum(1 for c in surnames.values() if c == 1) / len(surnames) > 0.3
