"""Policy rules: sign-offs, matches, purposes, whitelists, lawful bases, special categories."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from fedalert.node.disclosure import errors as E
from fedalert.node.disclosure.model import MatchInfo, Request
from fedalert.node.disclosure.policy import (
    check_area_may_share,
    check_incoming_request,
    check_partner_current,
    check_request,
    partner_state,
)

from test_disclosure_support import NOW, TODAY, protocol_a, protocol_b

MATCH = MatchInfo("m-1", "area-a", "h-a1", "area-b", "h-b1")


@pytest.fixture
def pb(tmp_path):
    return protocol_b(tmp_path)


def base_request(**kw) -> Request:
    r = Request(
        request_id="req-1",
        match_id="m-1",
        requesting_area="area-b",
        holding_area="area-a",
        holding_handle="h-a1",
        requesting_partner="area-b-council",
        requester="coord-b1",
        purpose="marac",
        lawful_basis="uk_gdpr_6_1_e",
        fields=("risk_level", "current_risk_summary", "conditions"),
        rationale="Victim moved to area B; current risk and conditions are needed to plan safety at Thursday's MARAC.",
        channel="meeting",
        urgency="routine",
        created_at=NOW,
        protocol_id="fedalert-national-isp",
        protocol_version="2026.1",
        requesting_partner_type="council",
        requesting_partner_sector="statutory",
        requester_signoff_on=dt.date(2026, 6, 3),
        statutory_power="Local Government (Scotland) Act 1973 s83 (invented citation for tests)",
    )
    return dataclasses.replace(r, **kw)


def police(**kw) -> Request:
    base = dict(
        requesting_partner="area-b-police",
        requesting_partner_type="police",
        requesting_partner_sector="statutory",
        requester_signoff_on=dt.date(2026, 6, 2),
        lawful_basis="dpa2018_s35",
    )
    base.update(kw)
    return base_request(**base)


def third(**kw) -> Request:
    base = dict(
        requesting_partner="area-b-ida",
        requesting_partner_type="third_sector",
        requesting_partner_sector="third_sector",
        requester_signoff_on=dt.date(2026, 6, 5),
        lawful_basis="uk_gdpr_6_1_f",
        lia_ref="LIA-B-2026-04",
        statutory_power="",
    )
    base.update(kw)
    return base_request(**base)


def test_valid_request_passes(pb):
    assert check_request(pb, base_request(), MATCH, my_area="area-b", today=TODAY) == []


def test_partner_states():
    pa = protocol_a()
    assert partner_state(pa, "area-a-police", TODAY).current
    st = partner_state(pa, "area-a-health", TODAY)  # signed 2025-04-20
    assert not st.current and st.code == "lapsed" and st.lapses_on == dt.date(2026, 4, 20)
    assert partner_state(pa, "area-a-health", dt.date(2026, 4, 19)).current  # the day before it lapsed
    assert partner_state(pa, "area-a-police", dt.date(2027, 5, 2)).code == "lapsed"  # exactly 365 days later
    assert partner_state(pa, "nobody", TODAY).code == "unknown"
    with pytest.raises(E.SignOffLapsed, match="lapsed on 2026-04-20"):
        check_partner_current(pa, "area-a-health", TODAY)


def test_withdrawn_and_wrong_version_partners(tmp_path):
    from test_disclosure_support import OVERLAY_B

    text = OVERLAY_B.replace(
        'signed_on = 2026-06-05\nsigned_version = "2026.1"',
        'signed_on = 2026-06-05\nsigned_version = "2026.1"\nwithdrawn_on = 2026-10-01',
    )
    text = text.replace(
        'signed_on = 2026-06-02\nsigned_version = "2026.1"', 'signed_on = 2026-06-02\nsigned_version = "2025.1"'
    )
    p = protocol_b(tmp_path, text)
    assert partner_state(p, "area-b-ida", TODAY).code == "withdrawn"
    assert partner_state(p, "area-b-ida", dt.date(2026, 9, 30)).current
    assert partner_state(p, "area-b-police", TODAY).code == "wrong_version"
    with pytest.raises(E.PartnerWithdrawn):
        check_request(p, third(), MATCH, my_area="area-b", today=TODAY)
    with pytest.raises(E.SignOffLapsed, match="not the current version"):
        check_request(p, police(), MATCH, my_area="area-b", today=TODAY)


def test_request_without_a_match_is_refused(pb):
    with pytest.raises(E.NoSuchMatch, match="must come from a match"):
        check_request(pb, base_request(), None, my_area="area-b", today=TODAY)
    with pytest.raises(E.NoSuchMatch, match="withdrawn"):
        check_request(pb, base_request(), dataclasses.replace(MATCH, withdrawn=True), my_area="area-b", today=TODAY)


def test_request_on_another_areas_match_is_refused(pb):
    other = MatchInfo("m-1", "area-a", "h-a1", "area-c", "h-c1")
    with pytest.raises(E.NotInMatch, match="not part of match"):
        check_request(pb, base_request(), other, my_area="area-b", today=TODAY)
    with pytest.raises(E.NotInMatch):
        check_request(pb, base_request(holding_area="area-c"), MATCH, my_area="area-b", today=TODAY)
    with pytest.raises(E.NotInMatch, match="handle"):
        check_request(pb, base_request(holding_handle="h-zz"), MATCH, my_area="area-b", today=TODAY)
    with pytest.raises(E.NotInMatch, match="cannot make a request as area"):
        check_request(pb, base_request(requesting_area="area-c"), MATCH, my_area="area-b", today=TODAY)


def test_area_blocked_while_lead_signoff_lapsed(tmp_path):
    from test_disclosure_support import OVERLAY_B

    p = protocol_b(tmp_path, OVERLAY_B.replace("signed_on = 2026-06-03", "signed_on = 2025-06-03"))
    with pytest.raises(E.SignOffLapsed, match="lead partner is not current"):
        check_area_may_share(p, TODAY)
    with pytest.raises(E.SignOffLapsed):
        check_request(p, police(), MATCH, my_area="area-b", today=TODAY)


def test_requesting_partner_with_lapsed_signoff(tmp_path):
    from test_disclosure_support import OVERLAY_B

    p = protocol_b(tmp_path, OVERLAY_B.replace("signed_on = 2026-06-02", "signed_on = 2025-11-01"))
    with pytest.raises(E.SignOffLapsed, match="area-b-police"):
        check_request(p, police(requester_signoff_on=dt.date(2025, 11, 1)), MATCH, my_area="area-b", today=TODAY)


def test_protocol_not_in_force_and_review_warning(pb):
    with pytest.raises(E.ProtocolNotInForce, match="takes effect"):
        check_request(pb, base_request(), MATCH, my_area="area-b", today=dt.date(2026, 5, 1))
    warnings = check_request(pb, base_request(), MATCH, my_area="area-b", today=dt.date(2027, 4, 2))
    assert any("due for review" in w for w in warnings)
    draft = dataclasses.replace(pb, status="draft")
    with pytest.raises(E.ProtocolNotInForce, match="draft"):
        check_request(draft, base_request(), MATCH, my_area="area-b", today=TODAY)


@pytest.mark.parametrize(
    "req, exc, words",
    [
        (dict(purpose="gossip"), E.PurposeNotAllowed, "not allowed by protocol"),
        (dict(fields=("risk_level", "shoe_size")), E.FieldNotAllowed, "shoe_size"),
        (
            dict(purpose="dsdas", channel="outside_meeting", fields=("risk_level", "health")),
            E.FieldNotAllowed,
            "health",
        ),
        (dict(fields=()), E.RequestInvalid, "at least one field"),
        (dict(fields=("risk_level", "risk_level")), E.RequestInvalid, "twice"),
        (dict(channel="emergency"), E.RequestInvalid, "channel"),
        (dict(urgency="whenever"), E.RequestInvalid, "urgency"),
        (dict(rationale="need it"), E.RequestInvalid, "rationale"),
        (dict(requester="Ms Jane Invented"), E.RequestInvalid, "not a free-text name"),
        (dict(protocol_version="2025.9"), E.ProtocolMismatch, "same national version"),
        (dict(lawful_basis="uk_gdpr_6_1_b"), E.LawfulBasisError, "fixed list"),
        (dict(lawful_basis="uk_gdpr_6_1_f", lia_ref="LIA-1"), E.LawfulBasisError, "public authority"),
        (
            dict(lawful_basis="uk_gdpr_6_1_ea", rli_condition="annex1_para6_safeguarding"),
            E.LawfulBasisError,
            "public authority",
        ),
        (dict(statutory_power=""), E.LawfulBasisError, "statutory power"),
        (dict(lawful_basis="dpa2018_s35"), E.LawfulBasisError, "police"),
        (
            dict(purpose="dsdas", channel="outside_meeting", lawful_basis="uk_gdpr_6_1_c"),
            E.LawfulBasisError,
            "not allowed for purpose",
        ),
        (dict(fields=("risk_level", "health")), E.SpecialCategoryError, "Art. 9 condition"),
        (dict(fields=("risk_level", "gender_history")), E.SpecialCategoryError, "gender_history"),
        (dict(fields=("health",), art9_condition="uk_gdpr_9_2_z"), E.SpecialCategoryError, "Art. 9"),
        (
            dict(fields=("health",), art9_condition="uk_gdpr_9_2_c", sch8_condition="dpa2018_sch8_para4"),
            E.SpecialCategoryError,
            "Part 3",
        ),
    ],
)
def test_request_rules(pb, req, exc, words):
    with pytest.raises(exc) as e:
        check_request(pb, base_request(**req), MATCH, my_area="area-b", today=TODAY)
    assert words in str(e.value)


def test_special_category_with_condition_passes(pb):
    r = base_request(fields=("risk_level", "health", "gender_history"), art9_condition="uk_gdpr_9_2_g_sch1_para18")
    assert check_request(pb, r, MATCH, my_area="area-b", today=TODAY) == []


def test_apd_needed_for_schedule_1_condition(pb):
    r = base_request(fields=("health",), art9_condition="uk_gdpr_9_2_g_sch1_para18")
    with pytest.raises(E.SpecialCategoryError, match="appropriate policy document"):
        check_request(dataclasses.replace(pb, apd_ref=""), r, MATCH, my_area="area-b", today=TODAY)
    ok = base_request(fields=("health",), art9_condition="uk_gdpr_9_2_c")
    assert check_request(dataclasses.replace(pb, apd_ref=""), ok, MATCH, my_area="area-b", today=TODAY) == []


def test_police_use_part3_with_schedule_8(pb):
    assert (
        check_request(
            pb,
            police(statutory_power="Police and Fire Reform (Scotland) Act 2012 s20"),
            MATCH,
            my_area="area-b",
            today=TODAY,
        )
        == []
    )
    with pytest.raises(E.LawfulBasisError, match="Part 3"):
        check_request(pb, police(lawful_basis="uk_gdpr_6_1_e"), MATCH, my_area="area-b", today=TODAY)
    with pytest.raises(E.SpecialCategoryError, match="Sch. 8"):
        check_request(pb, police(fields=("health",)), MATCH, my_area="area-b", today=TODAY)
    with pytest.raises(E.SpecialCategoryError, match="not an Art. 9"):
        check_request(
            pb, police(fields=("health",), art9_condition="uk_gdpr_9_2_c"), MATCH, my_area="area-b", today=TODAY
        )
    assert (
        check_request(
            pb, police(fields=("health",), sch8_condition="dpa2018_sch8_para4"), MATCH, my_area="area-b", today=TODAY
        )
        == []
    )


def test_third_sector_legitimate_interests_needs_lia(pb):
    assert check_request(pb, third(), MATCH, my_area="area-b", today=TODAY) == []
    with pytest.raises(E.LawfulBasisError, match="legitimate interests assessment"):
        check_request(pb, third(lia_ref=""), MATCH, my_area="area-b", today=TODAY)
    with pytest.raises(E.LawfulBasisError, match="recognised legitimate interest condition"):
        check_request(pb, third(lawful_basis="uk_gdpr_6_1_ea"), MATCH, my_area="area-b", today=TODAY)
    ok = third(lawful_basis="uk_gdpr_6_1_ea", rli_condition="annex1_para6_safeguarding")
    assert check_request(pb, ok, MATCH, my_area="area-b", today=TODAY) == []


def test_request_partner_claims_must_match_protocol(pb):
    with pytest.raises(E.RequestInvalid, match="council/statutory"):
        check_request(pb, base_request(requesting_partner_sector="third_sector"), MATCH, my_area="area-b", today=TODAY)
    with pytest.raises(E.RequestInvalid, match="sign-off date"):
        check_request(pb, base_request(requester_signoff_on=dt.date(2026, 11, 1)), MATCH, my_area="area-b", today=TODAY)
    with pytest.raises(E.UnknownPartner):
        check_request(pb, base_request(requesting_partner="area-a-police"), MATCH, my_area="area-b", today=TODAY)


def test_emergency_request_may_be_brief():
    pa = protocol_a()
    m = MatchInfo("m-2", "area-a", "h-a1", "area-b", "h-b1")
    r = base_request(
        requesting_area="area-a",
        holding_area="area-b",
        holding_handle="h-b1",
        match_id="m-2",
        requesting_partner="area-a-council",
        requester_signoff_on=dt.date(2026, 5, 4),
        purpose="emergency",
        channel="emergency",
        lawful_basis="uk_gdpr_6_1_d",
        rationale="risk to life tonight",
        statutory_power="",
    )
    assert check_request(pa, r, m, my_area="area-a", today=TODAY) == []


def test_incoming_request_checks_sender_and_address(pb):
    pa = protocol_a()
    r = base_request()
    assert check_incoming_request(pa, r, MATCH, my_area="area-a", sender_area="area-b", today=TODAY) == []
    with pytest.raises(E.NotInMatch, match="but area area-c sent it"):
        check_incoming_request(pa, r, MATCH, my_area="area-a", sender_area="area-c", today=TODAY)
    with pytest.raises(E.NotInMatch, match="addressed to area area-a"):
        check_incoming_request(pa, r, MATCH, my_area="area-c", sender_area="area-b", today=TODAY)
    with pytest.raises(E.SignOffLapsed, match="no current sign-off"):
        check_incoming_request(
            pa,
            base_request(requester_signoff_on=dt.date(2025, 10, 1)),
            MATCH,
            my_area="area-a",
            sender_area="area-b",
            today=TODAY,
        )
    with pytest.raises(E.NoSuchMatch):
        check_incoming_request(pa, r, None, my_area="area-a", sender_area="area-b", today=TODAY)
    # the holder applies its own (narrower) overlay: area-a removed sexual_orientation from marac
    with pytest.raises(E.FieldNotAllowed, match="sexual_orientation"):
        check_incoming_request(
            pa,
            base_request(fields=("sexual_orientation",), art9_condition="uk_gdpr_9_2_c"),
            MATCH,
            my_area="area-a",
            sender_area="area-b",
            today=TODAY,
        )
