"""The service's methods for the console's pages (mixed into DisclosureService).

Inbox and triage, the match page's evidence, the request form built from the
protocol (all errors at once), the approval queue with its preview, releases
received, and the audit page. Each checks the actor first, like every
service method; each returns plain values for a template.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field

from fedalert.node.disclosure import _sql as st
from fedalert.node.disclosure import casefields, policy, requests
from fedalert.node.disclosure._sql import transaction
from fedalert.node.disclosure.accounts import Principal
from fedalert.node.disclosure.errors import DisclosureError, NotFound, PolicyError
from fedalert.node.disclosure.evidence import Evidence, evidence
from fedalert.node.disclosure.law import (
    ART9_CONDITIONS,
    CHANNELS,
    GENDER_EXCEPTIONS,
    LAWFUL_BASES,
    PURPOSES,
    RESPONSE_HOURS,
    RLI_CONDITIONS,
    SCH8_CONDITIONS,
    URGENCIES,
)
from fedalert.node.disclosure.model import Withheld
from fedalert.node.disclosure.requests import RequestRow

TRIAGE_STATES = {"new": "New", "under_review": "Under review", "referred_to_marac": "Referred to MARAC",
                 "no_further_action": "No further action"}
#: Grounds an approver names when refusing (the reason text follows).
REFUSAL_GROUNDS = {
    "not_necessary": "not necessary for the stated purpose",
    "not_proportionate": "not proportionate to the risk described",
    "lawful_basis": "the lawful basis or condition given does not apply",
    "consent_refused": "the subject refused consent and no exemption applies",
    "prejudice": "sharing would prejudice the prevention or detection of crime or someone's safety",
    "not_held": "this area holds no information that can be shared",
}
#: Why a match was withdrawn, in words, by the reason the matcher gives.
WITHDRAWAL_REASONS = {
    "record_withdrawn": "the other area withdrew its record",
    "own_record_withdrawn": "this area withdrew its record",
    "rescored": "the records were rescored below the alert threshold",
    "area_revoked": "an area was revoked from the federation",
    "": "the matcher withdrew the match; this node's alerts do not yet say why (the other area withdrew "
        "its record, the pair was rescored below the threshold, or an area was revoked)",
}


@dataclass(frozen=True)
class AlertRow:
    match_id: str
    record_id: str | None
    other_area: str
    tier: str
    withdrawn: bool
    withdrawn_reason: str
    score: float
    kinds: tuple[str, ...]
    words: str
    received_at: _dt.datetime
    age: _dt.timedelta
    state: str
    assignee: str
    note: str
    updated_by: str


@dataclass(frozen=True)
class Inbox:
    rows: list[AlertRow]
    areas: list[str]
    tiers: tuple[str, ...] = ("high", "medium", "low")
    states: dict = field(default_factory=lambda: dict(TRIAGE_STATES))


@dataclass(frozen=True)
class MatchPage:
    row: AlertRow
    evidence: Evidence
    history: list[dict]  # type, tier, at
    requests: list[RequestRow]
    states: dict


@dataclass(frozen=True)
class Option:
    code: str
    label: str


@dataclass(frozen=True)
class PurposeOption:
    code: str
    label: str
    fields: list[tuple[str, str, str]]  # name, label, category
    bases: list[Option]
    channels: list[Option]


@dataclass(frozen=True)
class RequestForm:
    match_id: str
    other_area: str
    tier: str
    partners: list[Option]
    purposes: list[PurposeOption]
    all_fields: list[tuple[str, str, str]]
    bases: list[Option]
    channels: list[Option]
    urgencies: list[str]
    art9: list[Option]
    sch8: list[Option]
    rli: list[Option]


@dataclass(frozen=True)
class QueueItem:
    row: RequestRow
    age: _dt.timedelta
    deadline: _dt.datetime
    overdue: bool
    urgent: bool
    emergency: bool


@dataclass(frozen=True)
class PreviewItem:
    field: str
    label: str
    category: str
    subject: str
    value: str
    source: str
    recorded_on: _dt.date
    consent: str
    exception: str


@dataclass(frozen=True)
class ApprovalPage:
    row: RequestRow
    item: QueueItem | None
    released: list[PreviewItem]
    withheld: list[Withheld]
    problem: str
    subjects: list[str]  # people whose consent is to be recorded
    labels: dict
    grounds: dict
    exceptions: dict
    decided: bool


@dataclass(frozen=True)
class ReceivedRelease:
    release_id: str
    request_id: str
    from_area: str
    received_at: _dt.datetime
    released_at: _dt.datetime
    retention_until: _dt.date
    fields: list[str]
    withheld: list[str]
    deleted_at: _dt.datetime | None
    legal_hold: bool


@dataclass(frozen=True)
class AuditView:
    entries: list[dict]
    total: int
    shown_limit: int
    ok: bool
    problems: list[str]
    head: str | None


class DeskMixin:
    # -- inbox ------------------------------------------------------------------------
    def _alert_rows(self) -> list[AlertRow]:
        now = self.now()
        triage = {r["match_id"]: r for r in st.rows(self._db, "SELECT * FROM alert_triage")}
        out = []
        for m in self._store.inbox_rows():
            t = triage.get(m["match_id"], {})
            received = _dt.datetime.fromtimestamp(m["received_ms"] / 1000, _dt.timezone.utc)
            withdrawn = m["status"] != "live"
            reason = ""
            if withdrawn:
                reason = WITHDRAWAL_REASONS["own_record_withdrawn" if m["record_status"] == "withdrawn" else ""]
            ev = evidence(m["kinds"], m["score"])
            out.append(AlertRow(m["match_id"], m["record_id"], m["other_area"], m["tier"], withdrawn, reason,
                                m["score"], tuple(m["kinds"]), ev.words, received, now - received,
                                t.get("state", "new"), t.get("assignee", ""), t.get("note", ""),
                                t.get("updated_by", "")))
        out.sort(key=lambda r: r.received_at, reverse=True)
        return out

    def inbox(self, actor: Principal, *, tier: str | None = None, state: str | None = None,
              area: str | None = None) -> Inbox:
        """Alerts, one row per match, newest first; withdrawn matches stay, marked, with the reason."""
        self._check(actor, "alerts.read")
        rows = self._alert_rows()
        areas = sorted({r.other_area for r in rows})
        rows = [r for r in rows if (tier is None or r.tier == tier) and (state is None or r.state == state)
                and (area is None or r.other_area == area)]
        return Inbox(rows, areas)

    def match_page(self, actor: Principal, match_id: str) -> MatchPage:
        self._check(actor, "alerts.read")
        row = next((r for r in self._alert_rows() if r.match_id == match_id), None)
        if row is None:
            raise NotFound(f"no match {match_id!r} in this area's inbox")
        history = [{"type": a["type"], "tier": a["tier"],
                    "at": _dt.datetime.fromtimestamp(a["received_ms"] / 1000, _dt.timezone.utc)}
                   for a in self._store.alerts() if a["match_id"] == match_id]
        reqs = [r for r in requests.list_requests(self._db) if r.request.match_id == match_id]
        return MatchPage(row, evidence(list(row.kinds), row.score), history[::-1], reqs, dict(TRIAGE_STATES))

    def triage(self, actor: Principal, match_id: str, *, state: str, note: str, assignee: str) -> None:
        """Set a match's triage state, with a note and an assignee (audited: ids and the state only)."""
        user = self._check(actor, "alerts.triage")
        if state not in TRIAGE_STATES:
            raise DisclosureError(f"choose a state: {', '.join(TRIAGE_STATES.values())}")
        if self._store.match(match_id) is None:
            raise NotFound(f"no match {match_id!r} in this area's inbox")
        note, assignee = note.strip(), assignee.strip()
        if len(note) < 3 or len(note) > 2000:
            raise DisclosureError("write a note of 3 to 2,000 characters: what was decided and why")
        if assignee and not policy.ACTOR_ID_RE.match(assignee):
            raise DisclosureError("the assignee is a user id such as coord-n1")
        now = self.now()
        with transaction(self._db):
            st.execute(self._db, "INSERT INTO alert_triage (match_id, state, assignee, note, updated_by, updated_at) "
                                 "VALUES (?,?,?,?,?,?) ON CONFLICT(match_id) DO UPDATE SET state=excluded.state, "
                                 "assignee=excluded.assignee, note=excluded.note, updated_by=excluded.updated_by, "
                                 "updated_at=excluded.updated_at",
                       [match_id, state, assignee, note, user, st.ts(now)])
            self._audit.append("alert.triaged", match_id=match_id, state=state, assignee=assignee, user=user)

    # -- the request form ------------------------------------------------------------------
    def request_form(self, actor: Principal, match_id: str) -> RequestForm:
        """What the protocol allows for a request on this match: partners, purposes, bases, fields, channels."""
        self._check(actor, "disclosure.request")
        m = self._store.match(match_id)
        if m is None or m["status"] != "live":
            raise NotFound(f"no live match {match_id!r} in this area's inbox")
        p = self._protocol
        today = self.now().date()
        partners = [Option(pid, f"{pa.name} ({pa.type})") for pid, pa in sorted(p.partners.items())
                    if policy.partner_state(p, pid, today).current]
        fields = [(n, f.label, f.category) for n, f in p.fields.items()]
        purposes = [PurposeOption(code, PURPOSES[code], [(n, p.fields[n].label, p.fields[n].category)
                                                         for n in rule.fields],
                                  [Option(b, LAWFUL_BASES[b].label) for b in rule.lawful_bases],
                                  [Option(c, CHANNELS[c]) for c in rule.channels])
                    for code, rule in p.purposes.items()]
        return RequestForm(
            match_id, m["other_area"], m["tier"], partners, purposes, fields,
            [Option(b, LAWFUL_BASES[b].label) for b in p.lawful_bases],
            [Option(c, label) for c, label in CHANNELS.items()], list(URGENCIES),
            [Option(c, v.label) for c, v in ART9_CONDITIONS.items()],
            [Option(c, v.label) for c, v in SCH8_CONDITIONS.items()],
            [Option(c, v) for c, v in RLI_CONDITIONS.items()])

    def submit_request(self, actor: Principal, match_id: str, values: dict):
        """Check the whole form against the protocol; return (Request, {}) once sent to the outbox,
        or (None, {input: [errors]}) with every problem at once."""
        self._check(actor, "disclosure.request")
        kw = {
            "requesting_partner": str(values.get("requesting_partner", "")), "purpose": str(values.get("purpose", "")),
            "lawful_basis": str(values.get("lawful_basis", "")), "fields": list(values.get("fields") or []),
            "rationale": str(values.get("rationale", "")), "channel": str(values.get("channel", "")),
            "urgency": str(values.get("urgency", "") or "routine"), "art9_condition": str(values.get("art9", "")),
            "sch8_condition": str(values.get("sch8", "")), "lia_ref": str(values.get("lia_ref", "")),
            "rli_condition": str(values.get("rli", "")), "statutory_power": str(values.get("statutory_power", "")),
        }
        from fedalert.node.disclosure.relay import match_lookup
        from fedalert.node.disclosure.workflow import draft_request

        match = match_lookup(self._store, self._area_keys.area)(match_id)
        req = draft_request(self._protocol, match, my_area=self._area_keys.area, requester=actor.user,
                            match_id=match_id, now=self.now(), **kw)
        problems = policy.request_problems(self._protocol, req, match, my_area=self._area_keys.area,
                                           today=self.now().date())
        if problems:
            errors: dict[str, list[str]] = {}
            for p in problems:
                errors.setdefault(p.input or "form", []).append(str(p))
            return None, errors
        try:
            req, _env = self.request(actor, match_id, **kw)
        except PolicyError as exc:
            return None, {exc.input or "form": [str(exc)]}
        return req, {}

    # -- approvals ------------------------------------------------------------------------------
    def _queue_item(self, row: RequestRow) -> QueueItem:
        q = row.request
        now = self.now()
        emergency = q.channel == "emergency" or q.purpose == "emergency"
        urgency = "immediate" if emergency else q.urgency
        deadline = q.created_at + _dt.timedelta(hours=RESPONSE_HOURS[urgency])
        return QueueItem(row, now - q.created_at, deadline, now > deadline, urgency != "routine", emergency)

    def approval_queue(self, actor: Principal) -> list[QueueItem]:
        """Requests to this area awaiting a decision: emergency and urgent first, then the oldest."""
        self._check(actor, "disclosure.decide")
        items = [self._queue_item(r) for r in requests.list_requests(self._db, direction="incoming",
                                                                      status="requested")]
        rank = {"immediate": 0, "urgent": 1, "routine": 2}
        items.sort(key=lambda i: (0 if i.emergency else 1, rank.get(i.row.request.urgency, 3), i.row.request.created_at))
        return items

    def approval(self, actor: Principal, request_id: str, *, fields=None, consents=(), exceptions=()) -> ApprovalPage:
        """A request with a preview of exactly what would be released and withheld, and why,
        under the consents and exceptions entered so far (nothing is decided or recorded)."""
        self._check(actor, "disclosure.decide")
        row = requests.get_request(self._db, request_id)
        if row.direction != "incoming":
            raise NotFound(f"request {request_id} was made by this area; only the holding area decides")
        q = row.request
        decided = row.status != "requested"
        released, withheld, problem = [], [], ""
        if not decided:
            approved = tuple(f for f in (fields or q.fields) if f in q.fields)
            try:
                cmap = policy.check_consents(tuple(consents), q)
                items, withheld = policy.select_release_items(
                    self._protocol, q, approved, cmap, tuple(exceptions),
                    casefields.case_fields(self._db, row.record_id) if row.record_id else [], self.now().date(),
                    emergency=q.channel == "emergency")
                released = [PreviewItem(i.field, i.label, i.category, i.subject, i.value, i.source_name,
                                        i.recorded_on, i.consent_status, i.exception) for i in items]
            except PolicyError as exc:
                problem = str(exc)
        subjects = sorted({c.subject for c in casefields.case_fields(self._db, row.record_id)
                           if c.field in q.fields and c.subject != "case"} if row.record_id else set())
        labels = {n: f.label for n, f in self._protocol.fields.items()}
        return ApprovalPage(row, self._queue_item(row), released, withheld, problem, subjects, labels,
                            dict(REFUSAL_GROUNDS), dict(GENDER_EXCEPTIONS), decided)

    def refuse_with_ground(self, actor: Principal, request_id: str, *, ground: str, note: str):
        """Refuse, naming the ground (a rule of the protocol) and why."""
        if ground not in REFUSAL_GROUNDS:
            raise DisclosureError("choose the ground for refusing")
        return self.refuse(actor, request_id, reason=f"Refused: {REFUSAL_GROUNDS[ground]}. {note.strip()}".strip())

    # -- releases received, audit --------------------------------------------------------------------
    def releases_received(self, actor: Principal) -> list[ReceivedRelease]:
        self._check(actor, "release.read")
        out = []
        for r in st.rows(self._db, "SELECT * FROM disclosure_releases_received ORDER BY received_at DESC"):
            out.append(ReceivedRelease(
                r["release_id"], r["request_id"], r["from_area"], st.parse_ts(r["received_at"]),
                st.parse_ts(r["released_at"]), _dt.date.fromisoformat(r["retention_until"]),
                [i["label"] for i in json.loads(r["items"])], [w["field"] for w in json.loads(r["withheld"])],
                st.parse_ts(r["deleted_at"]), bool(r["legal_hold"])))
        return out

    def audit_view(self, actor: Principal, *, query: str = "", limit: int = 300) -> AuditView:
        """The node's audit log, newest first, filtered by *query* (words in the event or its fields),
        with the result of verifying the whole chain."""
        from fedalert import audit as audit_mod

        self._check(actor, "audit.read")
        path = self._audit.path
        if not path.exists():
            return AuditView([], 0, limit, True, [], None)
        report = audit_mod.verify(path)
        entries = audit_mod.read_entries(path)[::-1]
        words = [w.lower() for w in query.split() if w]
        if words:
            entries = [e for e in entries
                       if all(w in (e["event"] + " " + json.dumps(e["fields"], ensure_ascii=False)).lower()
                              for w in words)]
        return AuditView(entries[:limit], len(entries), limit, report.ok, report.problems[:20], report.head)

    def audit_export_csv(self, actor: Principal) -> str:
        """The audit log as CSV for a reviewer, cells neutralised as the CLI's export does (audited)."""
        import os
        import tempfile

        from fedalert import audit as audit_mod

        user = self._check(actor, "audit.read")
        fd, tmp = tempfile.mkstemp(suffix=".csv")
        os.close(fd)
        try:
            report = audit_mod.export(self._audit.path, tmp, fmt="csv")
            with open(tmp, encoding="utf-8") as fh:
                text = fh.read()
        finally:
            os.unlink(tmp)
        self._audit.append("audit.exported", user=user, entries=report.entries, chain_ok=report.ok)
        return text
