"""Fixed lists the protocol may choose from: purposes, lawful bases, conditions.

These are code, not data: a protocol file may narrow them, never add to them.
Codes are stable identifiers that travel in payloads and audit entries;
labels are the plain-language text shown to coordinators and in statements.
"""

from __future__ import annotations

from dataclasses import dataclass

PURPOSES: dict[str, str] = {
    "marac": "MARAC risk management",
    "marac_transfer": "MARAC-to-MARAC transfer",
    "child_protection": "child protection referral",
    "adult_protection": "adult protection referral",
    "dsdas": "disclosure scheme (DSDAS / DVDS)",
    "emergency": "emergency share to prevent serious harm",
}

CHANNELS: dict[str, str] = {
    "meeting": "at a MARAC meeting",
    "outside_meeting": "outside a meeting",
    "emergency": "emergency, outside a meeting",
}

URGENCIES = ("routine", "urgent", "immediate")
#: How long the holding area has to decide, by urgency (an emergency request is "immediate").
RESPONSE_HOURS = {"routine": 120, "urgent": 24, "immediate": 4}

PARTNER_TYPES = ("police", "council", "health", "third_sector")
SECTORS = ("statutory", "third_sector")

FIELD_CATEGORIES = ("ordinary", "special", "protected")
#: whom a case value is about; "case" is not about a person (e.g. the MARAC contact)
SUBJECTS = ("victim", "perpetrator", "child", "case")


@dataclass(frozen=True)
class Basis:
    code: str
    label: str
    regime: str  # "uk_gdpr" or "dpa2018_part3"
    needs_statutory_power: bool = False
    blocked_for_public_authority: bool = False
    needs_lia_ref: bool = False
    needs_rli_condition: bool = False
    police_only: bool = False


LAWFUL_BASES: dict[str, Basis] = {
    b.code: b
    for b in (
        Basis("uk_gdpr_6_1_c", "UK GDPR Art. 6(1)(c) legal obligation", "uk_gdpr", needs_statutory_power=True),
        Basis("uk_gdpr_6_1_d", "UK GDPR Art. 6(1)(d) vital interests", "uk_gdpr"),
        Basis("uk_gdpr_6_1_e", "UK GDPR Art. 6(1)(e) public task", "uk_gdpr", needs_statutory_power=True),
        Basis(
            "uk_gdpr_6_1_ea",
            "UK GDPR Art. 6(1)(ea) recognised legitimate interest",
            "uk_gdpr",
            blocked_for_public_authority=True,
            needs_rli_condition=True,
        ),
        Basis(
            "uk_gdpr_6_1_f",
            "UK GDPR Art. 6(1)(f) legitimate interests",
            "uk_gdpr",
            blocked_for_public_authority=True,
            needs_lia_ref=True,
        ),
        Basis(
            "dpa2018_s35",
            "DPA 2018 Part 3 s35 (law enforcement processing)",
            "dpa2018_part3",
            needs_statutory_power=True,
            police_only=True,
        ),
    )
}

#: Recognised legitimate interest conditions (Data (Use and Access) Act 2025, Annex 1).
RLI_CONDITIONS: dict[str, str] = {
    "annex1_para5_crime": "Annex 1 para 5: detecting, investigating or preventing crime",
    "annex1_para6_safeguarding": "Annex 1 para 6: safeguarding a vulnerable individual",
}


@dataclass(frozen=True)
class Condition:
    code: str
    label: str
    needs_apd: bool = False  # appropriate policy document reference
    needs_consent: bool = False  # explicit consent recorded for the subject


#: UK GDPR Art. 9 conditions for special-category fields.
ART9_CONDITIONS: dict[str, Condition] = {
    c.code: c
    for c in (
        Condition("uk_gdpr_9_2_a", "UK GDPR Art. 9(2)(a) explicit consent", needs_consent=True),
        Condition("uk_gdpr_9_2_c", "UK GDPR Art. 9(2)(c) vital interests"),
        Condition(
            "uk_gdpr_9_2_g_sch1_para18",
            "UK GDPR Art. 9(2)(g) with DPA 2018 Sch. 1 para 18 (safeguarding of children and individuals at risk)",
            needs_apd=True,
        ),
        Condition(
            "uk_gdpr_9_2_g_sch1_para10",
            "UK GDPR Art. 9(2)(g) with DPA 2018 Sch. 1 para 10 (preventing or detecting unlawful acts)",
            needs_apd=True,
        ),
    )
}

#: DPA 2018 Sch. 8 conditions for sensitive processing under Part 3.
SCH8_CONDITIONS: dict[str, Condition] = {
    c.code: c
    for c in (
        Condition("dpa2018_sch8_para1", "DPA 2018 Sch. 8 para 1 (statutory purposes)", needs_apd=True),
        Condition(
            "dpa2018_sch8_para3", "DPA 2018 Sch. 8 para 3 (protecting an individual's vital interests)", needs_apd=True
        ),
        Condition(
            "dpa2018_sch8_para4",
            "DPA 2018 Sch. 8 para 4 (safeguarding of children and of individuals at risk)",
            needs_apd=True,
        ),
    )
}

#: Recorded statutory exceptions that allow gender history to be released.
GENDER_EXCEPTIONS: dict[str, str] = {
    "gra2004_s22_4_crime": "Gender Recognition Act 2004 s22(4): preventing or investigating crime",
    "gra2004_s22_4_court": "Gender Recognition Act 2004 s22(4): order of a court or tribunal",
    "gra2004_s22_4_proceedings": "Gender Recognition Act 2004 s22(4): proceedings before a court or tribunal",
    "ssi_2005_125": "Gender Recognition (Disclosure of Information) (Scotland) Order 2005 (SSI 2005/125)",
    "si_2005_635": "Gender Recognition (Disclosure of Information) (England, Wales and Northern Ireland) (No. 2) Order 2005 (SI 2005/635)",
}

CONSENT_STATUSES = ("given", "refused", "not_sought")

#: Field name of gender history; it is "protected" in every protocol.
GENDER_HISTORY = "gender_history"
