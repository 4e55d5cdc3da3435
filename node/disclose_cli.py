"""``fedalert disclose ...``: the coordinator's disclosure commands.

Each command writes to the node's database: the state change and the sealed
envelopes for the other area commit in one transaction (the outbox). The
running node (``fedalert node serve``) sends the outbox and receives
envelopes. Without a running node, ``--send`` (on request/approve/refuse) or
``fedalert disclose flush`` talks to the matcher directly.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from pathlib import Path

from fedalert.errors import UsageError
from fedalert.node._auth_cli import auth_args, login, open_service
from fedalert.node._config import protocol_args, require as _require, settings as _settings


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def _csv(text: str | None) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("disclose", help="disclosure under the information sharing protocol (coordinators)")
    dsub = p.add_subparsers(dest="disclose_cmd", required=True, metavar="COMMAND")

    def conn(sp, keys=True, matcher=False):
        sp.add_argument("--config", type=Path, help="TOML file with a [node] table (flags override it)")
        sp.add_argument("--db", type=Path, help="the node's SQLite state file")
        sp.add_argument("--audit-mirror", type=Path,
                        help="also append each audit entry to this log (the node's own log, set by [node] audit "
                             "or FEDALERT_NODE_AUDIT, always gets it)")
        protocol_args(sp)
        if keys:
            sp.add_argument("--keys", type=Path, help="this area's folder from the key ceremony")
        if matcher:
            sp.add_argument("--matcher", help="matcher address host:port (for --send / flush)")
            sp.add_argument("--matcher-name", help="TLS name to expect on the matcher certificate")

    r = dsub.add_parser("request", allow_abbrev=False, help="ask the other area of a match for case fields")
    r.add_argument("match_id")
    conn(r, matcher=True)
    auth_args(r)
    r.add_argument("--partner", required=True, help="the requesting partner agency (an id in your overlay)")
    r.add_argument("--purpose", required=True,
                   help="marac, marac_transfer, child_protection, adult_protection, dsdas or emergency")
    r.add_argument("--basis", required=True, help="lawful basis code, e.g. uk_gdpr_6_1_e (see docs/PROTOCOL.md)")
    r.add_argument("--fields", required=True, help="comma-separated protocol field names")
    r.add_argument("--rationale", required=True, help="why the fields are necessary and proportionate")
    r.add_argument("--channel", required=True, help="meeting, outside_meeting or emergency")
    r.add_argument("--urgency", default="routine", help="routine, urgent or immediate")
    r.add_argument("--art9", default="", help="Art. 9 condition for special fields")
    r.add_argument("--sch8", default="", help="DPA 2018 Sch. 8 condition (Part 3)")
    r.add_argument("--lia-ref", default="", help="legitimate interests assessment reference (6(1)(f))")
    r.add_argument("--rli", default="", help="recognised legitimate interest condition (6(1)(ea))")
    r.add_argument("--statutory-power", default="", help="the statutory power (6(1)(c), 6(1)(e), s35)")
    r.add_argument("--send", action="store_true", help="send now (no running node needed)")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=_request)

    ls = dsub.add_parser("list", allow_abbrev=False, help="list disclosure requests (both directions)")
    conn(ls, keys=False)
    auth_args(ls)
    ls.add_argument("--direction", choices=["outgoing", "incoming"])
    ls.add_argument("--status")
    ls.add_argument("--record", help="only requests about this record id")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_list)

    sh = dsub.add_parser("show", allow_abbrev=False, help="the full record of one request (no case values)")
    sh.add_argument("request_id")
    conn(sh, keys=False)
    auth_args(sh)
    sh.add_argument("--json", action="store_true")
    sh.set_defaults(func=_show)

    a = dsub.add_parser("approve", allow_abbrev=False, help="approve a received request (all fields, or --fields) and release")
    a.add_argument("request_id")
    conn(a, matcher=True)
    auth_args(a)
    a.add_argument("--fields", help="approve only these fields (comma-separated)")
    a.add_argument("--reason", default="", help="reason (required when approving only some fields)")
    a.add_argument("--consent", action="append", default=[],
                   help="SUBJECT:STATUS[:REASON], e.g. victim:not_sought:would increase risk (repeat per subject)")
    a.add_argument("--exception", action="append", default=[],
                   help="FIELD:PROVISION:NOTE statutory exception, e.g. gender_history:gra2004_s22_4_crime:why")
    a.add_argument("--send", action="store_true", help="send now (no running node needed)")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=_approve)

    rf = dsub.add_parser("refuse", allow_abbrev=False, help="refuse a received request with a reason")
    rf.add_argument("request_id")
    conn(rf, matcher=True)
    auth_args(rf)
    rf.add_argument("--reason", required=True)
    rf.add_argument("--send", action="store_true", help="send now (no running node needed)")
    rf.set_defaults(func=_refuse)

    rs = dsub.add_parser("release-show", allow_abbrev=False, help="open a received release and show its values (the view is audited)")
    rs.add_argument("release_id")
    conn(rs)
    auth_args(rs)
    rs.add_argument("--json", action="store_true")
    rs.set_defaults(func=_release_show)

    stm = dsub.add_parser("statement", allow_abbrev=False, help="plain-language sharing statement for a record")
    stm.add_argument("record_id")
    conn(stm, keys=False)
    auth_args(stm)
    stm.add_argument("--area", help="this area's id (default: the overlay's area)")
    stm.set_defaults(func=_statement)

    ce = dsub.add_parser("complete-emergency", allow_abbrev=False, help="complete the full record of an emergency release")
    ce.add_argument("request_id")
    conn(ce, keys=False)
    auth_args(ce)
    ce.add_argument("--rationale", required=True, help="the full necessity and proportionality rationale")
    ce.add_argument("--consent", action="append", default=[], help="SUBJECT:STATUS[:REASON] for each subject")
    ce.set_defaults(func=_complete_emergency)

    lh = dsub.add_parser("legal-hold", allow_abbrev=False, help="keep a received release past its retention (or lift the hold)")
    lh.add_argument("release_id")
    conn(lh, keys=False)
    auth_args(lh)
    lh.add_argument("--reason", default="", help="why it must be kept (at least 10 characters)")
    lh.add_argument("--lift", action="store_true", help="lift the hold")
    lh.set_defaults(func=_legal_hold)

    cw = dsub.add_parser("close-withdrawn", allow_abbrev=False, help="close pending requests after an area or partner withdrew")
    cw.add_argument("--area", help="the area that left the federation")
    cw.add_argument("--partner", help="the partner agency that withdrew (also set withdrawn_on in the overlay)")
    conn(cw, keys=False)
    auth_args(cw)
    cw.set_defaults(func=_close_withdrawn)

    f = dsub.add_parser("flush", allow_abbrev=False, help="send the outbox and receive waiting envelopes once, then exit")
    conn(f, matcher=True)
    f.add_argument("--idle", type=float, default=2.0, help="seconds without envelopes before stopping")
    f.set_defaults(func=_flush)

    b = dsub.add_parser("breach", allow_abbrev=False, help="the breach register (72-hour ICO clock)")
    bsub = b.add_subparsers(dest="breach_cmd", required=True, metavar="ACTION")
    ba = bsub.add_parser("add", allow_abbrev=False, help="record a breach; the 72-hour clock runs from --aware-at")
    conn(ba, keys=False)
    auth_args(ba)
    ba.add_argument("--summary", required=True, help="what happened, which data categories (no personal data)")
    ba.add_argument("--aware-at", help="when the area became aware (ISO time, UTC; default now)")
    ba.set_defaults(func=_breach_add)
    bl = bsub.add_parser("list", allow_abbrev=False, help="list breaches with their clocks")
    conn(bl, keys=False)
    auth_args(bl)
    bl.add_argument("--open", action="store_true", help="open breaches only")
    bl.add_argument("--json", action="store_true")
    bl.set_defaults(func=_breach_list)
    bn = bsub.add_parser("notify-ico", allow_abbrev=False, help="record the ICO notification")
    bn.add_argument("breach_id")
    conn(bn, keys=False)
    auth_args(bn)
    bn.add_argument("--at", help="when the ICO was notified (ISO time, UTC; default now)")
    bn.add_argument("--delay-reason", default="", help="required when after the 72-hour deadline")
    bn.set_defaults(func=_breach_notify)
    bd = bsub.add_parser("no-report", allow_abbrev=False, help="record a decision not to report to the ICO")
    bd.add_argument("breach_id")
    conn(bd, keys=False)
    auth_args(bd)
    bd.add_argument("--reason", required=True)
    bd.set_defaults(func=_breach_no_report)
    bc = bsub.add_parser("close", allow_abbrev=False, help="close a breach (needs an ICO notification or a decision not to report)")
    bc.add_argument("breach_id")
    conn(bc, keys=False)
    auth_args(bc)
    bc.set_defaults(func=_breach_close)

    c = dsub.add_parser("complaint", allow_abbrev=False, help="the complaints register (30-day acknowledgement)")
    csub = c.add_subparsers(dest="complaint_cmd", required=True, metavar="ACTION")
    ca = csub.add_parser("add", allow_abbrev=False, help="record a complaint")
    conn(ca, keys=False)
    auth_args(ca)
    ca.add_argument("--summary", required=True)
    ca.add_argument("--channel", required=True, help="how it arrived, e.g. letter, email, phone")
    ca.set_defaults(func=_complaint_add)
    cl = csub.add_parser("list", allow_abbrev=False, help="list complaints")
    conn(cl, keys=False)
    auth_args(cl)
    cl.set_defaults(func=_complaint_list)
    ck = csub.add_parser("ack", allow_abbrev=False, help="record the acknowledgement")
    ck.add_argument("complaint_id")
    conn(ck, keys=False)
    auth_args(ck)
    ck.set_defaults(func=_complaint_ack)
    cc = csub.add_parser("close", allow_abbrev=False, help="close with an outcome (the complainant must be told about the ICO)")
    cc.add_argument("complaint_id")
    conn(cc, keys=False)
    auth_args(cc)
    cc.add_argument("--outcome", required=True)
    cc.add_argument("--told-about-ico", action="store_true")
    cc.set_defaults(func=_complaint_close)


# --- context --------------------------------------------------------------------


def _send(svc) -> str:
    stats = svc.send()
    return f"sent {stats.sent} envelope(s)" + (f", {stats.held} held back (see the log)" if stats.held else "")


def _sent_or_queued(args, svc) -> str:
    if args.send:
        _require(_settings(args), "keys_dir", "matcher")
        return _send(svc)
    return "queued for the running node to send"


def _emit(obj, as_json: bool, text: str) -> int:
    if as_json:
        print(json.dumps(obj, indent=2, default=str))
    else:
        print(text, end="" if text.endswith("\n") else "\n")
    return 0


def _row_json(row) -> dict:
    q, d = row.request, row.decision
    withheld = [w.field for w in d.withheld] if d else []
    released = [f for f in (d.approved_fields if d else ()) if f not in withheld]
    return {
        "request_id": q.request_id, "direction": row.direction, "status": row.status,
        "status_reason": row.status_reason, "match_id": q.match_id, "requesting_area": q.requesting_area,
        "holding_area": q.holding_area, "record_id": row.record_id, "purpose": q.purpose,
        "lawful_basis": q.lawful_basis, "channel": q.channel, "fields": list(q.fields),
        "fields_released": released if row.status in ("approved", "partially_approved", "released") else [],
        "fields_withheld": withheld, "release_id": row.release_id,
    }


# --- commands ---------------------------------------------------------------------


def _request(args) -> int:
    with open_service(args, keys=True) as svc:
        req, env = svc.request(
            login(svc, args), args.match_id, requesting_partner=args.partner, purpose=args.purpose,
            lawful_basis=args.basis, fields=_csv(args.fields), rationale=args.rationale, channel=args.channel,
            urgency=args.urgency, art9_condition=args.art9, sch8_condition=args.sch8, lia_ref=args.lia_ref,
            rli_condition=args.rli, statutory_power=args.statutory_power)
        sent = _sent_or_queued(args, svc)
    return _emit({"request_id": req.request_id, "to_area": req.holding_area, "envelope_id": env.envelope_id},
                 args.json, f"request {req.request_id} to area {req.holding_area} on match {req.match_id}: {sent}")


def _list(args) -> int:
    from fedalert.node.disclosure import render_request_list

    with open_service(args) as svc:
        rows = svc.list_requests(login(svc, args), direction=args.direction, status=args.status, record_id=args.record)
    return _emit([_row_json(r) for r in rows], args.json, render_request_list(rows))


def _show(args) -> int:
    from fedalert.node.disclosure import render_request

    with open_service(args) as svc:
        row = svc.get_request(login(svc, args), args.request_id)
    return _emit(_row_json(row), args.json, render_request(row))


def _approve(args) -> int:
    from fedalert.node.disclosure import parse_consent, parse_exception

    with open_service(args, keys=True) as svc:
        decision, envs = svc.approve(
            login(svc, args), args.request_id, fields=_csv(args.fields), reason=args.reason,
            consents=[parse_consent(c) for c in args.consent],
            exceptions=[parse_exception(e) for e in args.exception])
        sent = _sent_or_queued(args, svc)
    withheld = [w.field for w in decision.withheld]
    text = (f"request {args.request_id}: {decision.status}"
            + (f"; withheld: {', '.join(f'{w.field} ({w.reason})' for w in decision.withheld)}" if withheld else "")
            + f"; {len(envs)} envelope(s) {sent}")
    return _emit({"request_id": args.request_id, "status": decision.status, "withheld": withheld,
                  "envelopes": [e.kind for e in envs]}, args.json, text)


def _refuse(args) -> int:
    with open_service(args, keys=True) as svc:
        decision, _ = svc.refuse(login(svc, args), args.request_id, reason=args.reason)
        sent = _sent_or_queued(args, svc)
    print(f"request {args.request_id}: {decision.status}; {sent}")
    return 0


def _release_show(args) -> int:
    from fedalert.node.disclosure import render_release

    with open_service(args, keys=True) as svc:
        rel = svc.read_release(login(svc, args), args.release_id)
    obj = {"release_id": rel.release_id, "request_id": rel.request_id, "from_area": rel.from_area,
           "purpose": rel.purpose, "retention_until": rel.retention_until.isoformat(),
           "items": [{"field": i.field, "value": i.value, "subject": i.subject, "source_partner": i.source_partner,
                      "recorded_on": i.recorded_on.isoformat(), "consent_status": i.consent_status}
                     for i in rel.items],
           "withheld": [{"field": w.field, "reason": w.reason} for w in rel.withheld]}
    return _emit(obj, args.json, render_release(rel))


def _statement(args) -> int:
    with open_service(args) as svc:
        area = args.area or svc.area()
        if not area:
            raise UsageError("give --area or --overlay (the statement names this area)")
        print(svc.sharing_statement(login(svc, args), args.record_id, area=area), end="")
    return 0


def _complete_emergency(args) -> int:
    from fedalert.node.disclosure import parse_consent

    with open_service(args) as svc:
        late = svc.complete_emergency(login(svc, args), args.request_id, rationale=args.rationale,
                                      consents=[parse_consent(c) for c in args.consent])
    print(f"request {args.request_id}: emergency record completed" + (" (late)" if late else ""))
    return 0


def _legal_hold(args) -> int:
    with open_service(args) as svc:
        svc.legal_hold(login(svc, args), args.release_id, hold=not args.lift, reason=args.reason)
    print(f"release {args.release_id}: legal hold {'lifted' if args.lift else 'set'}")
    return 0


def _close_withdrawn(args) -> int:
    if bool(args.area) == bool(args.partner):
        raise UsageError("give exactly one of --area or --partner")
    with open_service(args) as svc:
        actor = login(svc, args)
        if args.area:
            rows = svc.close_for_area_withdrawal(actor, args.area)
        else:
            rows = svc.close_for_partner_withdrawal(actor, args.partner)
    print(f"closed {len(rows)} pending request(s)")
    for r in rows:
        print(f"  {r.request.request_id}  match {r.request.match_id}")
    return 0


def _flush(args) -> int:
    with open_service(args, matcher=True) as svc:
        done = svc.flush(idle=args.idle)
    got = done.received
    refused = sum(1 for g in got if g is None)
    print(f"sent {done.sent.sent} envelope(s)" + (f" ({done.sent.held} held back)" if done.sent.held else "")
          + f"; received {len(got)}" + (f", {refused} refused (see the log)" if refused else ""))
    for g in got:
        if g is not None:
            print(f"  {g.kind}: request {g.request_id} is {g.status}")
    return 0


def _time(text: str | None) -> _dt.datetime:
    if not text:
        return _now()
    try:
        t = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{text!r} is not an ISO time such as 2026-11-25T09:30Z") from None
    return t if t.tzinfo else t.replace(tzinfo=_dt.timezone.utc)


def _breach_line(svc, b) -> str:
    return f"{b.breach_id}  {b.status:<6} aware {b.aware_at:%Y-%m-%d %H:%M} UTC  {svc.breach_clock(b).text}"


def _breach_add(args) -> int:
    with open_service(args) as svc:
        b = svc.record_breach(login(svc, args), summary=args.summary,
                              aware_at=_time(args.aware_at) if args.aware_at else None)
        print(_breach_line(svc, b))
    return 0


def _breach_list(args) -> int:
    with open_service(args) as svc:
        rows = svc.list_breaches(login(svc, args), open_only=args.open)
        if args.json:
            out = []
            for b in rows:
                c = svc.breach_clock(b)
                out.append({"breach_id": b.breach_id, "status": b.status, "aware_at": b.aware_at.isoformat(),
                            "deadline": c.deadline.isoformat(), "overdue": c.overdue, "stopped": c.stopped,
                            "clock": c.text})
            return _emit(out, True, "")
        print("\n".join(_breach_line(svc, b) for b in rows) if rows else "no breaches")
    return 0


def _breach_notify(args) -> int:
    with open_service(args) as svc:
        b = svc.notify_ico(login(svc, args), args.breach_id, at=_time(args.at) if args.at else None, delay_reason=args.delay_reason)
        print(_breach_line(svc, b))
    return 0


def _breach_no_report(args) -> int:
    with open_service(args) as svc:
        b = svc.decide_not_to_report(login(svc, args), args.breach_id, reason=args.reason)
        print(_breach_line(svc, b))
    return 0


def _breach_close(args) -> int:
    with open_service(args) as svc:
        b = svc.close_breach(login(svc, args), args.breach_id)
        print(_breach_line(svc, b))
    return 0


def _complaint_line(c, now) -> str:
    state = ("closed" if c.closed_at else "acknowledged" if c.acknowledged_at
             else ("ACK OVERDUE" if c.ack_overdue(now) else f"acknowledge by {c.acknowledge_by:%Y-%m-%d}"))
    return f"{c.complaint_id}  received {c.received_at:%Y-%m-%d}  via {c.channel}  {state}"


def _complaint_add(args) -> int:
    with open_service(args) as svc:
        c = svc.record_complaint(login(svc, args), channel=args.channel, summary=args.summary)
    print(_complaint_line(c, _now()))
    return 0


def _complaint_list(args) -> int:
    with open_service(args) as svc:
        rows = svc.list_complaints(login(svc, args))
    print("\n".join(_complaint_line(c, _now()) for c in rows) if rows else "no complaints")
    return 0


def _complaint_ack(args) -> int:
    with open_service(args) as svc:
        c = svc.acknowledge_complaint(login(svc, args), args.complaint_id)
    print(_complaint_line(c, _now()))
    return 0


def _complaint_close(args) -> int:
    with open_service(args) as svc:
        c = svc.close_complaint(login(svc, args), args.complaint_id, outcome=args.outcome, told_about_ico=args.told_about_ico)
    print(_complaint_line(c, _now()))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run as: fedalert disclose ...")
