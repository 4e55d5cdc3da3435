"""Every rate of make_people_b's population and error model, in one table.

Each entry is ``name: Rate(p, unit, why)``. ``unit`` says what the rate is a
share of (its denominator); ``why`` names the source or says "assumed". The
generator draws every random phenomenon through ``Tally.hit(name)``, which
counts how many cases were eligible and how many were hit, so the manifest can
report observed against stated rates. The module docstring of
bench/make_people_b.py lists the same table in prose with its sources.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    p: float
    unit: str
    why: str


_A = "assumed"
_PNC = "assumed; PNC holds 'names, nicknames and dates of birth used' (HC Deb 11 Dec 1996 c259W) and aliases 'as and when known' (HC written answer 215746, 2014)"
_FALSE = "assumed; offenders give false names and DOBs (Guardian Public 'Police records', Gloucestershire Constabulary)"
_DAMERAU = "assumed rate; shape from Damerau 1964 (over 80% of misspellings are one insertion, deletion, substitution or transposition)"
_HES = "assumed; HES vs PDS found postcode missing or different in 53% of records (Harron et al. 2017, BMC Med Res Methodol 17:23)"
_LUO = "Luo et al. 2014 (BMC Bioinformatics 15:185): 1.5-2% of recorded birthdates wrong in health data; police data worse (HMIC, Bichard 2006: 15-86% error rates)"

RATES: dict[str, Rate] = {
    # ---- population (per person)
    "person_male": Rate(0.80, "person", "assumed; ONS 'Domestic abuse in England and Wales': most victims are women and most perpetrators men"),
    "person_multi_area": Rate(0.15, "person", "assumed; serial perpetrators move between areas (Clancy, Robinson & Hanks 2014, All-Wales review)"),
    "person_three_areas": Rate(0.15, "multi-area person, 3+ areas", _A),
    "person_in_area_duplicate": Rate(0.01, "person", "assumed; Cleveland Police held 1.87M person records for <600k people (Experian 'Golden Nominal' case study)"),
    "person_middle_name": Rate(0.60, "person of a pool with middle names", _A),
    "person_two_middle_names": Rate(0.12, "person with a middle name", _A),
    "person_known_by_middle": Rate(0.06, "person with a middle name", _A),
    "person_mohammed_first": Rate(0.25, "South Asian Muslim male", "assumed; Interpol 'A guide to names and naming practices' (2006): Mohammed as first element, called by the next name"),
    "person_hyphenated_surname": Rate(0.03, "British/Irish person", _A),
    "person_has_pnc": Rate(0.60, "person", _A),
    "person_has_ni": Rate(0.93, "person", "assumed; foreign nationals and NFA people may have none"),
    "person_has_mobile": Rate(0.93, "person", "assumed; Ofcom: about 95% of UK adults have a mobile"),
    "person_has_email": Rate(0.45, "person", _A),
    "household_landline": Rate(0.30, "household", "assumed; falling landline ownership (Ofcom)"),
    "person_surname_change": Rate(0.20, "woman", "assumed; most married women take the husband's name (90%, 2019 survey quoted by F Hinds 2023; 35% of women 18-34, YouGov 2023)"),
    "person_old_surname_alias": Rate(0.40, "person whose surname changed", _PNC),
    "person_moniker": Rate(0.10, "man", _PNC),
    "person_moniker_female": Rate(0.03, "woman", _PNC),
    "person_false_name": Rate(0.04, "person", _FALSE),
    "person_alias_dob": Rate(0.05, "person", _FALSE),
    "person_nickname_habit": Rate(0.25, "person whose forename has a short form", "assumed; people give the name they use"),
    "person_english_name": Rate(0.40, "Chinese-origin person", "assumed; English given names adopted in the UK (Price 2007, 'Success with Asian names')"),
    "person_scottish_born": Rate(0.05, "person of an English or Welsh area", "assumed; holds a CHI number from earlier residence"),
    # ---- planted hard negatives (per 1,000 persons; see population module)
    "group_twins": Rate(0.005, "person (pairs planted per person)", "assumed; UK twin maternities are about 1.5%; planted above the natural rate so there are enough to measure"),
    "group_father_son": Rate(0.005, "person (pairs)", _A),
    "group_siblings": Rate(0.008, "person (pairs)", _A),
    "group_spouses": Rate(0.006, "person (pairs)", _A),
    "group_common_name_same_dob": Rate(0.004, "person (pairs)", _A),
    "group_cross_area": Rate(0.75, "planted pair", "assumed; a pair only tests cross-area matching when it spans areas"),
    # ---- life between records of one person
    "record_moved": Rate(0.70, "later record of a person in another area", "assumed; people move (Lam et al. 2024, IJPDS: address timing in admin data)"),
    "record_moved_same_area": Rate(0.30, "later record of a person in the same area", _A),
    "record_mobile_changed": Rate(0.35, "later record of a person with a mobile", _A),
    "record_email_changed": Rate(0.30, "later record of a person with e-mail", _A),
    "record_nfa": Rate(0.03, "record", "assumed; 'NFA' (no fixed abode) is routine in custody records"),
    "record_source_police": Rate(0.60, "record", "assumed; the rest are council (social care, housing, MARAC) records"),
    # ---- names
    "name_known_by_middle": Rate(0.70, "record of a person known by a middle name", _A),
    "name_nickname": Rate(0.08, "record whose forename has a short form", "assumed; diminutives (Bob/Robert, Kasia/Katarzyna) and anglicised forms (Piotr/Peter)"),
    "name_nickname_habit": Rate(0.50, "record of a person who habitually uses a short form", _A),
    "name_variant_forename": Rate(0.25, "record of a non-British-pool person whose forename has transliterations", "assumed; Mansuur 2021 'Somali names and individual identity': one name, four spellings"),
    "name_variant_surname": Rate(0.20, "record of a non-British-pool person whose surname has transliterations",
                                 "assumed; Mansuur 2021, as above"),
    "name_spelling_forename": Rate(0.05, "record whose forename has English spelling alternatives (Steven/Stephen)", _A),
    "name_spelling_surname": Rate(0.04, "record whose surname has English spelling alternatives (Clark/Clarke)", _A),
    "name_typo_forename": Rate(0.02, "record with a forename", _DAMERAU),
    "name_typo_surname": Rate(0.025, "record with a surname", _DAMERAU),
    "name_phonetic_forename": Rate(0.015, "record with a forename", "assumed; GeCo/FEBRL phonetic corruptors (Tran, Vatsalan & Christen 2013)"),
    "name_phonetic_surname": Rate(0.02, "record with a surname", "assumed; same source"),
    "name_initial_only": Rate(0.015, "record", _A),
    "name_swap": Rate(0.015, "record (non-Chinese)", "assumed; rlErrorGeneratoR models first/last swaps"),
    "name_swap_chinese": Rate(0.20, "record of a Chinese-origin person", "assumed; family name first (Interpol naming guide 2006)"),
    "name_double_surname_partial": Rate(0.35, "record with a hyphenated or double surname", _A),
    "name_mc_o_variant": Rate(0.30, "record whose surname starts Mc/Mac/O'", _A),
    "name_particle_variant": Rate(0.30, "record whose name has Al-/El-/Abdul/Ud-din particles", "assumed; Interpol naming guide 2006"),
    "name_diacritics_stripped": Rate(0.60, "record whose name has diacritics", "assumed; many UK systems are ASCII-only"),
    "name_mojibake": Rate(0.02, "record whose name has diacritics", "assumed; UTF-8 read as Latin-1 in an export"),
    "name_surname_gender_form": Rate(0.15, "record of a Polish/Lithuanian woman with a gendered surname", _A),
    "name_sikh_order": Rate(0.35, "record of a Sikh person", "assumed; Singh/Kaur recorded as surname (Interpol naming guide 2006)"),
    "name_somali_element": Rate(0.25, "record of a Somali person", "assumed; father's name taken as surname (SBS Cultural Atlas, Somali naming)"),
    "name_english_name_used": Rate(0.40, "record of a Chinese-origin person with an English name", _A),
    "name_junior_suffix": Rate(0.40, "record of a junior son", _A),
    "name_old_surname_used": Rate(0.40, "record after a surname change", "assumed; the old name lingers in other agencies' systems"),
    "name_primary_is_alias": Rate(0.25, "police record of a person with a false name", _FALSE),
    "alias_shown_police": Rate(0.70, "police record of a person with aliases", _PNC),
    "alias_shown_council": Rate(0.25, "council record of a person with aliases", _A),
    "alias_moniker_with_surname": Rate(0.50, "moniker, per record", _A),
    "alias_dob_shown_police": Rate(0.70, "police record of a person with alias DOBs", _PNC),
    "alias_dob_shown_council": Rate(0.20, "council record of a person with alias DOBs", _A),
    "missing_forename": Rate(0.003, "record", _A),
    "missing_surname": Rate(0.002, "record", _A),
    "missing_middle_police": Rate(0.30, "police record of a person with middle names", _A),
    "missing_middle_council": Rate(0.50, "council record of a person with middle names", _A),
    "extra_whitespace": Rate(0.02, "record", _A),
    # ---- dates of birth
    "missing_dob_police": Rate(0.02, "police record", _A),
    "missing_dob_council": Rate(0.06, "council record", _A),
    "dob_placeholder_1900": Rate(0.005, "record with a DOB", _A),
    "dob_year_only": Rate(0.01, "record with a DOB", "assumed; 01/01 of the birth year when only the year is known (Luo et al. 2014 on contaminated birthdates)"),
    "dob_day_month_swap": Rate(0.015, "record with a DOB whose day <= 12 and day != month", _LUO),
    "dob_digit_typo": Rate(0.01, "record with a DOB", _LUO),
    "dob_year_off": Rate(0.005, "record with a DOB", _LUO),
    "dob_timestamp": Rate(0.005, "record with a DOB", "assumed; spreadsheet/SQL exports append ' 00:00:00'"),
    # ---- strong identifiers
    "pnc_shown_police": Rate(0.85, "police record of a person with a PNC id", _A),
    "pnc_shown_council": Rate(0.08, "council record of a person with a PNC id", _A),
    "pnc_bad_check": Rate(0.01, "PNC id shown", "assumed; HMIC PNC compliance audits found persistent input errors"),
    "pnc_digit_typo": Rate(0.01, "PNC id shown", "assumed; same"),
    "ni_shown_police": Rate(0.10, "police record of a person with an NI number", _A),
    "ni_shown_council": Rate(0.35, "council record of a person with an NI number", _A),
    "ni_typo": Rate(0.01, "NI number shown", _A),
    "ni_no_suffix": Rate(0.02, "NI number shown", "HMRC NIM39110 and DWP practice: suffix left blank when unknown"),
    "ni_temporary": Rate(0.005, "NI number shown", "assumed; old temporary 'TN' numbers built from the DOB"),
    "chi_shown_scottish_council": Rate(0.60, "Scottish council record of a person with a CHI", _A),
    "chi_shown_scottish_police": Rate(0.20, "Scottish police record of a person with a CHI", _A),
    "chi_shown_other": Rate(0.03, "English/Welsh record of a person with a CHI", _A),
    "chi_typo": Rate(0.01, "CHI shown", _A),
    "chi_leading_zero_lost": Rate(0.05, "CHI shown whose first digit is 0", "assumed; spreadsheets drop leading zeros"),
    # ---- contact and place
    "phone_shown_police": Rate(0.60, "police record of a person with a phone", _A),
    "phone_shown_council": Rate(0.70, "council record of a person with a phone", _A),
    "phone_landline_used": Rate(0.30, "record shown a phone whose household has a landline", _A),
    "phone_other_person": Rate(0.03, "record shown a phone", "assumed; a partner's or relative's number given"),
    "phone_leading_zero_lost": Rate(0.02, "phone shown", "assumed; spreadsheets drop leading zeros"),
    "phone_typo": Rate(0.01, "phone shown", _A),
    "email_shown_police": Rate(0.15, "police record of a person with e-mail", _A),
    "email_shown_council": Rate(0.40, "council record of a person with e-mail", _A),
    "email_typo": Rate(0.01, "e-mail shown", _A),
    "email_case": Rate(0.10, "e-mail shown", _A),
    "missing_postcode_police": Rate(0.10, "police record with an address", _HES),
    "missing_postcode_council": Rate(0.04, "council record with an address", _HES),
    "missing_address_police": Rate(0.05, "police record with an address", _A),
    "missing_address_council": Rate(0.02, "council record with an address", _A),
    "postcode_typo": Rate(0.02, "postcode shown", "assumed; O/0 and I/1 confusions, adjacent keys"),
    "postcode_outward_only": Rate(0.01, "postcode shown", _A),
    "postcode_in_address": Rate(0.15, "address shown", _A),
    "address_typo": Rate(0.02, "address shown", _DAMERAU),
    "nfa_postcode_column": Rate(0.40, "NFA record", "assumed; 'NFA' typed where the postcode goes"),
}


class Tally:
    """Draws each phenomenon at its stated rate and counts eligible and hit cases."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.eligible: Counter[str] = Counter()
        self.applied: Counter[str] = Counter()

    def hit(self, name: str, tags: list[str] | None = None) -> bool:
        self.eligible[name] += 1
        if self.rng.random() < RATES[name].p:
            self.applied[name] += 1
            if tags is not None:
                tags.append(name)
            return True
        return False

    def record(self, name: str, eligible: int, applied: int) -> None:
        """Count a phenomenon whose number is fixed, not drawn (planted pairs)."""
        self.eligible[name] += eligible
        self.applied[name] += applied

    def summary(self) -> dict[str, dict]:
        out = {}
        for name, rate in RATES.items():
            n, k = self.eligible[name], self.applied[name]
            out[name] = {"rate": rate.p, "unit": rate.unit, "eligible": n, "applied": k,
                         "observed": round(k / n, 4) if n else None, "why": rate.why}
        return out
