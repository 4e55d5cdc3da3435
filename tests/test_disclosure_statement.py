"""Sharing statement, subject-access listing and release view."""

from __future__ import annotations

import datetime as dt

from fedalert.node.disclosure import requests, statement, workflow

from test_disclosure import NOT_SOUGHT, NOW, ask, nodes  # noqa: F401 (fixture)


def test_sharing_statement_says_what_whom_when_why_and_basis(nodes):  # noqa: F811
    a, b = nodes
    req = ask(a, b, ["risk_level", "conditions", "gender_history"], art9_condition="uk_gdpr_9_2_c")
    workflow.decide(
        a.db,
        a.audit,
        a.protocol,
        req.request_id,
        outcome="approve_all",
        decided_by="coord-a1",
        consents=NOT_SOUGHT,
        now=NOW,
    )
    workflow.release(a.db, a.audit, a.protocol, req.request_id, now=NOW)
    text = statement.sharing_statement(a.db, "rec-a1", area="area-a", today=dt.date(2026, 11, 26))
    assert "On 25 November 2026 we shared information with area-b." in text
    assert "Why: MARAC risk management, at a MARAC meeting." in text
    assert (
        "Legal basis: UK GDPR Art. 6(1)(e) public task; for special-category information UK GDPR Art. 9(2)(c)" in text
    )
    assert "Risk level (from Northvale Constabulary (invented), recorded 1 October 2026)" in text
    assert "Bail or order conditions (from Northvale Constabulary (invented), recorded 30 September 2026)" in text
    assert "Asked for by coord-b1; decided by coord-a1." in text
    assert "gender history: Gender history is released only with" in text
    assert "victim: consent not sought (seeking consent would increase risk to the victim)" in text
    assert "INVENTED" not in text  # categories, never values
    assert "No information" in statement.sharing_statement(a.db, "rec-other", area="area-a", today=dt.date(2026, 11, 26))


def test_sar_listing_covers_requests_and_releases_both_ways(nodes):  # noqa: F811
    a, b = nodes
    r1 = ask(a, b, ["risk_level"])
    r2 = ask(a, b, ["conditions"])
    workflow.decide(
        a.db,
        a.audit,
        a.protocol,
        r1.request_id,
        outcome="approve_all",
        decided_by="coord-a1",
        consents=NOT_SOUGHT,
        now=NOW,
    )
    rel, _ = workflow.release(a.db, a.audit, a.protocol, r1.request_id, now=NOW)
    workflow.decide(
        a.db,
        a.audit,
        a.protocol,
        r2.request_id,
        outcome="refuse",
        decided_by="coord-a1",
        reason="Not relevant to current risk (invented)",
        now=NOW,
    )
    text = statement.sar_listing(a.db, "rec-a1")
    assert f"Request {r1.request_id} from area-b on 25 November 2026" in text
    assert f"Released to area-b on 25 November 2026 (release {rel.release_id})" in text
    assert "Risk level: from Northvale Constabulary (invented) (area-a-police), recorded 1 October 2026" in text
    assert f"Request {r2.request_id} from area-b" in text and "status refused (Not relevant" in text
    assert "third-party exemption" in text
    assert "INVENTED" not in text
    text_b = statement.sar_listing(b.db, "rec-b1")
    assert f"Request {r1.request_id} to area-a" in text_b
    assert "No disclosure requests" in statement.sar_listing(a.db, "rec-nothing")


def test_request_list_and_show_render(nodes):  # noqa: F811
    a, b = nodes
    req = ask(a, b, ["risk_level", "gender_history"], art9_condition="uk_gdpr_9_2_c")
    workflow.decide(
        a.db,
        a.audit,
        a.protocol,
        req.request_id,
        outcome="approve_all",
        decided_by="coord-a1",
        consents=NOT_SOUGHT,
        now=NOW,
    )
    listing = statement.render_request_list(requests.list_requests(a.db))
    assert req.request_id in listing and "partially_approved" in listing and "area-b" in listing
    shown = statement.render_request(requests.get_request(a.db, req.request_id))
    assert "Decision by coord-a1 on 25 November 2026: approve_all -> partially_approved" in shown
    assert "Withheld gender_history: Gender history is released only with" in shown
    assert "Consent (victim): not_sought, seeking consent would increase risk to the victim" in shown
    assert "INVENTED" not in shown
    assert statement.render_request_list([]) == "No disclosure requests.\n"
