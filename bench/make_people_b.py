"""Independent synthetic UK police and council person records for measuring record linkage.

    python bench/make_people_b.py --out DIR [--areas 3] [--per-area 2000] [--seed N] [--manifest FILE]

writes DIR/<area>.csv for each area (the canonical CSV of README.md: record_id,
forename, middle_names, surname, date_of_birth, aliases, alias_dobs, pnc_id,
chi_number, ni_number, phone, email, postcode, address) and DIR/truth.csv
(record_id,person_id). Record ids are random; rows are shuffled; the same seed
gives the same files. --manifest writes a JSON file with every person's true
identity, every record's corruptions (tags), the planted hard-negative pairs,
each area system's export style and, for every rate below, how many cases were
eligible and how many were hit. 3 x 2,000 records take about 1.3 s, 4 x 2,500
about 1.6 s and 3 x 20,000 about 11 s (20 s and 230 MB more with --manifest)
on the project's 2-core machine.

Independence. This generator was written from its own brief, without reading
how fedalert builds match keys or scores them; of the project it read only
README.md's canonical CSV section and the input forms node/normalise.py
accepts. Its nickname, variant and phonetic tables are its own (it does not
use the `nicknames` library), and it writes what exports contain, not what
the importer prefers. Some values are
therefore invalid on purpose, at the rates below: "NFA" or an outward code in
the postcode column, a PNC id with a wrong check letter, an NI number without
its suffix or a temporary "TN" number, a CHI that lost its leading zero, a DOB
exported as "1991-04-17 00:00:00", a one-word moniker ("Tiny") in aliases.

Everything is invented. Names alone are not personal data and every
combination is made up; towns and streets are invented; postcode areas are
letter pairs no real postcode uses (NM, EV, KB, ...); NI numbers use the QQ
prefix, which HMRC uses only as its documented example and never issues;
e-mail domains end in the reserved .example TLD (RFC 2606); phone numbers come
from Ofcom's ranges reserved for TV and radio drama (mobile 07700 900000-900999;
landline 01632 960000-960999, 0113 496 0000-0999 and the other city ranges)
until they run out. There are only 1,000 numbers in each, and every person
needs a distinct number, so at 3 x 2,000 records about 60% of numbers (and
more at larger sizes) lie outside the reserved blocks: mobiles 07700 901000-
999999 and landlines prefix 1000-9999 in the same exchanges. The manifest
summary counts both. Numbers are never shared between unrelated people.

Population model
----------------
Each area holds exactly --per-area records. Planted hard-negative pairs come
first, then ordinary people until every slot is taken. A person has a naming
tradition (pool) with approximate 2021 Census shares for England and Wales:
British 77.5%, Irish 2%, Polish 3%, Romanian 1.2%, Lithuanian 0.8%, South
Asian Muslim (Pakistani/Bangladeshi) 5%, Sikh 1.5%, Hindu/Gujarati 1.5%,
Somali 1%, West African (Nigerian, Ghanaian) 2.2%, Caribbean 1.5%, Chinese
0.8%, Arabic-origin 1.2%, Turkish/Kurdish 0.8%. Names are drawn from
frequency-ordered lists with a Zipf-like curve (a heavy head, Smith about
1.3% of people) and, for British surnames, a long synthetic tail of English
place-name surnames (45% of British surnames, over 1,400 names). British
forenames depend on the birth cohort (before/after 1980). Ages follow a
domestic-abuse perpetrator profile (assumed, peaking at 25-44): 16-17 1%,
18-24 16%, 25-34 33%, 35-44 25%, 45-54 15%, 55-64 7%, 65-85 3%, as of a
fixed reference date (30/09/2025). Each person has a home (an invented
address; a landline for some households), a mobile, maybe an e-mail; the
areas that know the person in time order; and, between records, life
events (moving house, a new phone, NFA spells). Rates (share of the unit
named; sources in brackets, listed at the end):

    person_male                    80%  of person [ONS-DA]
    person_multi_area              15%  of person [Clancy]
    person_three_areas             15%  of multi-area person, 3+ areas [assumed]
    person_in_area_duplicate        1%  of person [Cleveland]
    person_middle_name             60%  of person of a pool with middle names [assumed]
    person_two_middle_names        12%  of person with a middle name [assumed]
    person_known_by_middle          6%  of person with a middle name [assumed]
    person_mohammed_first          25%  of South Asian Muslim male [Interpol]
    person_hyphenated_surname       3%  of British/Irish person [assumed]
    person_has_pnc                 60%  of person [assumed]
    person_has_ni                  93%  of person [assumed]
    person_has_mobile              93%  of person [Ofcom]
    person_has_email               45%  of person [assumed]
    household_landline             30%  of household [Ofcom]
    person_surname_change          20%  of woman [names-marriage]
    person_old_surname_alias       40%  of person whose surname changed [PNC]
    person_moniker                 10%  of man [PNC]
    person_moniker_female           3%  of woman [PNC]
    person_false_name               4%  of person [falseID]
    person_alias_dob                5%  of person [falseID]
    person_nickname_habit          25%  of person whose forename has a short form [assumed]
    person_english_name            40%  of Chinese-origin person [Price]
    person_scottish_born            5%  of person of an English or Welsh area [assumed]

Hard negatives (pairs per person, planted; see bench/_people_b_groups.py):
twins (same DOB, surname and home, different forenames, a third with the same
initial), father and son with the same forename and surname ("Jnr" sometimes),
siblings, spouses sharing surname, home and landline, and unrelated people
with a very common name (John Smith, Imran Khan) born on the same day.

    group_twins                   0.5%  of person (pairs planted per person) [twins]
    group_father_son              0.5%  of person (pairs) [assumed]
    group_siblings                0.8%  of person (pairs) [assumed]
    group_spouses                 0.6%  of person (pairs) [assumed]
    group_common_name_same_dob    0.4%  of person (pairs) [assumed]
    group_cross_area               75%  of planted pair [assumed]

Life between records and the record's system:

    record_moved                   70%  of later record of a person in another area [Lam]
    record_moved_same_area         30%  of later record of a person in the same area [assumed]
    record_mobile_changed          35%  of later record of a person with a mobile [assumed]
    record_email_changed           30%  of later record of a person with e-mail [assumed]
    record_nfa                      3%  of record [NFA]
    record_source_police           60%  of record [assumed]

Error model
-----------
Every record is an independent rendering of the truth at the time, through
the export style of the system that holds it (a police or council system of
that area: name case, middle names kept apart or in the forename column,
date form, phone form, postcode and address form, short or long PNC form;
each record strays from the house style now and then) and through these
recording errors, each drawn at its own rate:

Names (known-by-middle, diminutives such as Bob/Robert and Kasia/Katarzyna
and anglicised forms such as Piotr/Peter; transliterations such as
Mohammed/Muhammad/Mohamed and Hussain/Hussein/Xuseen, Cantonese/Mandarin
romanisations such as Chan/Chen and Wong/Wang, Gaelic/English forms such as
Siobhan/Shivaun; keyboard-adjacency typos, transpositions, dropped and
doubled letters; sound-alike spellings; Mc/Mac and O' forms; Al-/Abdul
particles; half of a double-barrelled surname; forename and surname swapped;
initials; Polish/Lithuanian women recorded under the masculine form; Sikh
Singh/Kaur taken as the surname; a Somali father's name taken as surname;
a maiden name still in use after marriage; "Jnr"; false names given to
police as the primary name):

    name_known_by_middle           70%  of record of a person known by a middle name [assumed]
    name_nickname                   8%  of record whose forename has a short form [assumed]
    name_nickname_habit            50%  of record of a person who habitually uses a short form [assumed]
    name_variant_forename          25%  of record of a non-British-pool person whose forename has
                                        transliterations [Mansuur]
    name_variant_surname           20%  of record of a non-British-pool person whose surname has
                                        transliterations [Mansuur]
    name_spelling_forename          5%  of record whose forename has English spelling alternatives (Steven/Stephen)
                                        [assumed]
    name_spelling_surname           4%  of record whose surname has English spelling alternatives (Clark/Clarke)
                                        [assumed]
    name_typo_forename              2%  of record with a forename [Damerau]
    name_typo_surname             2.5%  of record with a surname [Damerau]
    name_phonetic_forename        1.5%  of record with a forename [GeCo]
    name_phonetic_surname           2%  of record with a surname [assumed]
    name_initial_only             1.5%  of record [assumed]
    name_swap                     1.5%  of record (non-Chinese) [rlErrorGen]
    name_swap_chinese              20%  of record of a Chinese-origin person [Interpol]
    name_double_surname_partial    35%  of record with a hyphenated or double surname [assumed]
    name_mc_o_variant              30%  of record whose surname starts Mc/Mac/O' [assumed]
    name_particle_variant          30%  of record whose name has Al-/El-/Abdul/Ud-din particles [Interpol]
    name_diacritics_stripped       60%  of record whose name has diacritics [assumed]
    name_mojibake                   2%  of record whose name has diacritics [assumed]
    name_surname_gender_form       15%  of record of a Polish/Lithuanian woman with a gendered surname [assumed]
    name_sikh_order                35%  of record of a Sikh person [Interpol]
    name_somali_element            25%  of record of a Somali person [SBS-Somali]
    name_english_name_used         40%  of record of a Chinese-origin person with an English name [assumed]
    name_junior_suffix             40%  of record of a junior son [assumed]
    name_old_surname_used          40%  of record after a surname change [assumed]
    name_primary_is_alias          25%  of police record of a person with a false name [falseID]

Aliases ("known as": monikers/street names such as Tiny, Smithy, Robbo,
false names, the old surname, a Chinese person's English name) and alias
DOBs:

    alias_shown_police             70%  of police record of a person with aliases [PNC]
    alias_shown_council            25%  of council record of a person with aliases [assumed]
    alias_moniker_with_surname     50%  of moniker, per record [assumed]
    alias_dob_shown_police         70%  of police record of a person with alias DOBs [PNC]
    alias_dob_shown_council        20%  of council record of a person with alias DOBs [assumed]

Missing values and noise:

    missing_forename              0.3%  of record [assumed]
    missing_surname               0.2%  of record [assumed]
    missing_middle_police          30%  of police record of a person with middle names [assumed]
    missing_middle_council         50%  of council record of a person with middle names [assumed]
    extra_whitespace                2%  of record [assumed]
    missing_dob_police              2%  of police record [assumed]
    missing_dob_council             6%  of council record [assumed]
    missing_postcode_police        10%  of police record with an address [Harron]
    missing_postcode_council        4%  of council record with an address [Harron]
    missing_address_police          5%  of police record with an address [assumed]
    missing_address_council         2%  of council record with an address [assumed]

Dates of birth (written in the system's form: 17/04/1991, 17-04-1991,
17/4/1991, 17.04.91, 1991-04-17, 17-Apr-1991, 17 April 1991, 17/04/91,
19910417; 15% of records in another form):

    dob_placeholder_1900          0.5%  of record with a DOB [assumed]
    dob_year_only                   1%  of record with a DOB [Luo]
    dob_day_month_swap            1.5%  of record with a DOB whose day <= 12 and day != month [Luo]
    dob_digit_typo                  1%  of record with a DOB [Luo]
    dob_year_off                  0.5%  of record with a DOB [Luo]
    dob_timestamp                 0.5%  of record with a DOB [assumed]

Strong identifiers (PNC id YYYY/NNNNNNNL with the mod-23 check letter, or
the display form YY/NNNNNL; NI number QQ123456C or QQ 12 34 56 C; CHI
DDMMYY + 4 digits, mod-11 check):

    pnc_shown_police               85%  of police record of a person with a PNC id [assumed]
    pnc_shown_council               8%  of council record of a person with a PNC id [assumed]
    pnc_bad_check                   1%  of PNC id shown [HMIC]
    pnc_digit_typo                  1%  of PNC id shown [assumed]
    ni_shown_police                10%  of police record of a person with an NI number [assumed]
    ni_shown_council               35%  of council record of a person with an NI number [assumed]
    ni_typo                         1%  of NI number shown [assumed]
    ni_no_suffix                    2%  of NI number shown [HMRC-NIM]
    ni_temporary                  0.5%  of NI number shown [assumed]
    chi_shown_scottish_council     60%  of Scottish council record of a person with a CHI [assumed]
    chi_shown_scottish_police      20%  of Scottish police record of a person with a CHI [assumed]
    chi_shown_other                 3%  of English/Welsh record of a person with a CHI [assumed]
    chi_typo                        1%  of CHI shown [assumed]
    chi_leading_zero_lost           5%  of CHI shown whose first digit is 0 [assumed: Excel]

Contact and place:

    phone_shown_police             60%  of police record of a person with a phone [assumed]
    phone_shown_council            70%  of council record of a person with a phone [assumed]
    phone_landline_used            30%  of record shown a phone whose household has a landline [assumed]
    phone_other_person              3%  of record shown a phone [assumed]
    phone_leading_zero_lost         2%  of phone shown [assumed: Excel]
    phone_typo                      1%  of phone shown [assumed]
    email_shown_police             15%  of police record of a person with e-mail [assumed]
    email_shown_council            40%  of council record of a person with e-mail [assumed]
    email_typo                      1%  of e-mail shown [assumed]
    email_case                     10%  of e-mail shown [assumed]
    postcode_typo                   2%  of postcode shown [assumed]
    postcode_outward_only           1%  of postcode shown [assumed]
    postcode_in_address            15%  of address shown [assumed]
    address_typo                    2%  of address shown [Damerau]
    nfa_postcode_column            40%  of NFA record [assumed]

The table in bench/_people_b_rates.py is the one authority for these numbers;
tests/test_make_people_b.py checks that this docstring agrees with it and
that each phenomenon occurs at about its rate.

Sources
-------
A bracketed source supports the phenomenon and, where it states one, its size;
otherwise the number is this generator's assumption.

[Clancy]      Clancy, Robinson & Hanks (2014) Defining and Profiling Serial Domestic Abuse
              Perpetrators: An All-Wales Feasibility Review. Cardiff University.
[Cleveland]   Experian case study, Cleveland Police 'Golden Nominal' (2019): 1,867,000 person
              records for fewer than 600,000 people. experian.co.uk/blogs/latest-thinking/
[Damerau]     Damerau (1964) A technique for computer detection and correction of spelling
              errors. CACM 7(3):171-176: over 80% of misspellings are one insertion, deletion,
              substitution or transposition.
[falseID]     'Police records', Guardian Public (Gloucestershire Constabulary): offenders give
              false names and dates of birth; HMIC PNC compliance reports (e.g. Merseyside 2004,
              Cambridgeshire 2006).
[GeCo]        Tran, Vatsalan & Christen (2013) GeCo: an online personal data generator and
              corruptor (CIKM); Christen (2012) Data Matching, ch. on synthetic data; FEBRL's
              dataset generator (typo, phonetic, missing-value, swap corruptors).
[Harron]      Harron et al. (2017) Utilising identifier error variation in linkage of large
              administrative data sources. BMC Med Res Methodol 17:23 (HES vs PDS: sex/DOB wrong
              or missing in 0.11% of records, postcode in 53%).
[HMIC]        HMIC 'On the Record' (2000) and PNC compliance audits; The Register, 'Bichard reports
              widespread errors in police data' (2006): error rates of 15-86% before Soham.
[HMRC-NIM]    HMRC National Insurance Manual NIM39110 (format; QQ 12 34 56 A is the example);
              unused prefixes D F I Q U V, BG GB NK KN TN NT ZZ.
[Interpol]    'A guide to names and naming practices' (UK for Interpol, March 2006).
[Lam]         Lam et al. (2024) Strategies for ascertaining timing of address changes in
              administrative data. IJPDS.
[Luo]         Luo et al. (2014) Detecting contaminated birthdates using generalized additive
              models. BMC Bioinformatics 15:185 (1.5-2% of birthdates wrong).
[Mansuur]     Cabdalla Cumar Mansuur (2021) Somali names and individual identity (one name
              written four ways).
[names-marriage] F Hinds (2023) survey note (90% of British women took the husband's name, 2019);
              YouGov (2023): 35% of women aged 18-34 would.
[NFA]         'No fixed abode' as recorded in custody and PNC address fields (PNC User Manual).
[Ofcom]       Ofcom, Telephone numbers for drama purposes (07700 900000-900999, 01632 960xxx,
              city ranges); BBC News 'The 20,000 fake phone numbers' (2015).
[ONS-DA]      ONS, Domestic abuse in England and Wales (year ending March 2017, 2018 bulletins).
[PNC]         HC Deb 11 Dec 1996 c259W (PNC fields: names, nicknames and dates of birth used);
              HC written answer 215746 (2014): aliases recorded as and when known;
              criminaljusticehub.org.uk 'Police National Computer Id': YY/NNNNNNND, modulus 23,
              1=A .. 0=Z without I, O and S.
[Price]       Price (2007) Success with Asian names. Nicholas Brealey.
[rlErrorGen]  Ilangovan (2019) rlErrorGeneratoR (twins, day-month swaps, name swaps, nicknames,
              marriage name changes); PyPI error-generator.
[SBS-Somali]  SBS Cultural Atlas, Somali culture: naming (own + father's + grandfather's name).
[twins]       ONS Births in England and Wales: about 15 multiple maternities per 1,000.
Census shares: ONS, Ethnic group, England and Wales: Census 2021.
Surname frequencies: surnamestudies.org.uk, England & Wales leading surnames 1853-1996.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _people_b_data as D  # noqa: E402
from _people_b_groups import build  # noqa: E402
from _people_b_population import REF_DATE  # noqa: E402
from _people_b_render import Renderer  # noqa: E402

COLUMNS = ["record_id", "forename", "middle_names", "surname", "date_of_birth", "aliases", "alias_dobs",
           "pnc_id", "chi_number", "ni_number", "phone", "email", "postcode", "address"]
MAX_AREAS = len(D.AREAS)


def area_ids(count: int) -> list[str]:
    if not 1 <= count <= MAX_AREAS:
        raise ValueError(f"--areas must be between 1 and {MAX_AREAS} (the invented areas: "
                         f"{', '.join(a[0] for a in D.AREAS)})")
    return [a[0] for a in D.AREAS[:count]]


def generate(out_dir: Path, areas: int = 3, per_area: int = 2000, seed: int = 1,
             manifest: Path | None = None) -> dict:
    """Write DIR/<area>.csv and DIR/truth.csv (and the manifest); return a summary."""
    if per_area < 20:
        raise ValueError("--per-area must be at least 20")
    ids = area_ids(areas)
    builder = build(seed, ids, per_area)
    by_pid = {p.pid: p for p in builder.persons}
    renderer = Renderer(seed, builder.tally, builder.numbers, by_pid)
    rows: dict[str, list[dict]] = {a: [] for a in ids}
    truth: list[tuple[str, str]] = []
    records: dict[str, dict] = {}
    for p in builder.persons:
        for i, area in enumerate(p.slots):
            row, tags, source = renderer.render(p, i)
            rows[area].append(row)
            truth.append((row["record_id"], p.pid))
            records[row["record_id"]] = {"area": area, "person_id": p.pid, "slot": i, "source": source,
                                         "tags": tags}
    out_dir.mkdir(parents=True, exist_ok=True)
    for area in ids:
        random.Random(f"{seed}:shuffle:{area}").shuffle(rows[area])
        with open(out_dir / f"{area}.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows[area])
    random.Random(f"{seed}:shuffle:truth").shuffle(truth)
    with open(out_dir / "truth.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["record_id", "person_id"])
        writer.writerows(truth)
    multi = sum(1 for p in builder.persons if len(set(p.slots)) > 1)
    summary = {
        "seed": seed, "areas": ids, "per_area": per_area, "records": len(truth),
        "persons": len(builder.persons), "persons_in_2plus_areas": multi,
        "planted_pairs": dict(Counter(g["type"] for g in builder.groups)),
        "phone_numbers_reserved_ranges": builder.numbers.reserved_used,
        "phone_numbers_outside_reserved": builder.numbers.overflow_used,
    }
    if manifest is not None:
        write_manifest(manifest, summary, builder, renderer, records)
    return summary


def write_manifest(path: Path, summary: dict, builder, renderer, records: dict) -> None:
    tag_counts = Counter(tag for r in records.values() for tag in r["tags"])
    persons = {
        p.pid: {"pool": p.pool, "sex": p.sex, "given": p.given, "surname": p.surname,
                "new_surname": p.new_surname, "change_at": p.change_at, "dob": p.dob.isoformat(),
                "alt_dobs": [d.isoformat() for d in p.alt_dobs], "pnc": p.pnc, "ni": p.ni, "chi": p.chi,
                "known_by_middle": p.known_by_middle, "nickname": p.nickname, "monikers": p.monikers,
                "false_names": [" ".join(n) for n in p.false_names], "english_name": p.english_name,
                "junior": p.junior, "slots": p.slots, "group": {k: v for k, v in p.group.items()
                                                                 if k in ("type", "gid", "role", "mate")},
                "tags": p.tags,
                "life": [{"area": lf.area, "household": lf.household.hid, "address": vars(lf.household.address),
                          "landline": lf.household.landline, "mobile": lf.mobile, "email": lf.email,
                          "nfa": lf.nfa} for lf in p.life]}
        for p in builder.persons
    }
    doc = {
        "summary": summary, "reference_date": REF_DATE.isoformat(),
        "rates": builder.tally.summary(),
        "styles": {f"{a}/{s}": st for (a, s), st in sorted(renderer.styles.items())},
        "groups": builder.groups, "tag_counts": dict(sorted(tag_counts.items())),
        "persons": persons, "records": records,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=None, separators=(",", ":")), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Independent synthetic UK police/council person records "
                                                 "for measuring cross-area record linkage.")
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("--areas", type=int, default=3, help=f"number of areas (1-{MAX_AREAS})")
    parser.add_argument("--per-area", type=int, default=2000, help="records per area")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--manifest", type=Path, help="also write a JSON manifest: every person's truth, "
                                                      "every record's corruptions, observed rates")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        summary = generate(args.out, args.areas, args.per_area, args.seed, args.manifest)
    except ValueError as exc:
        parser.error(str(exc))
    summary["seconds"] = round(time.perf_counter() - started, 2)
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
