"""The disclosure service: the one API that every front end calls.

The coordinator CLI (``fedalert disclose ...``) and the web console hold no
logic of their own: they parse what the person typed, call one method here
and show the result. A method opens nothing and decides nothing by itself:
it hands the node's store, audit log, protocol and keys to the domain
functions of this package (:mod:`.workflow`, :mod:`.outbox`, :mod:`.receive`,
:mod:`.lifecycle`, :mod:`.registers`, :mod:`.statement`), which check the
rules, write one transaction and one audit entry each.

The service reads no flags, files named by a user or environment variables:
the caller passes a :class:`ServiceConfig` with explicit paths. It reads the
clock (``clock``, UTC) so that front ends need not; tests pass their own.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path

from fedalert.audit import AuditLog
from fedalert.node.disclosure import lifecycle, outbox, receive, registers, requests, statement
from fedalert.node.disclosure.errors import DisclosureError, NotFound
from fedalert.node.disclosure.model import Consent, Decision, Release, Request, StatutoryException
from fedalert.node.disclosure.protocol import Protocol, bundled_national_path, load_protocol
from fedalert.node.disclosure.registers import Breach, BreachClock, Complaint
from fedalert.node.disclosure.requests import RequestRow
from fedalert.node.store import NodeStore

def utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


@dataclass(frozen=True)
class ServiceConfig:
    """Where a node's disclosure state lives. Only ``db`` is needed to read; sending
    and opening releases need ``keys_dir`` (and ``matcher`` to talk to the matcher)."""

    db: Path
    audit: Path | None = None  # default: next to db, <db>.audit.jsonl
    protocol: Path | None = None  # default: the national protocol shipped with fedalert
    overlay: Path | None = None
    keys_dir: Path | None = None
    matcher: str | None = None
    matcher_name: str | None = None  # default: the name only the matcher's certificate carries

    def audit_path(self) -> Path:
        return Path(self.audit) if self.audit else Path(self.db).with_suffix(".audit.jsonl")


@dataclass(frozen=True)
class Sent:
    """What one send round did: envelopes accepted by the matcher, and held back."""

    sent: int
    held: int


@dataclass(frozen=True)
class Flushed:
    sent: Sent
    received: list  # Dispatched, or None for an envelope refused (logged)


class DisclosureService:
    """One area's disclosure work: requests, decisions, releases, registers, statements."""

    def __init__(self, config: ServiceConfig, *, clock=utcnow):
        self.config = config
        self.clock = clock
        self._store = NodeStore(config.db)
        self._audit = AuditLog(config.audit_path())
        self._protocol: Protocol = load_protocol(config.protocol or bundled_national_path(), config.overlay)
        self._loaded_keys: outbox.AreaKeys | None = None

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> "DisclosureService":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def _db(self):
        return self._store.db

    def now(self) -> _dt.datetime:
        return self.clock()

    # -- this area ------------------------------------------------------------
    @property
    def _area_keys(self) -> outbox.AreaKeys:
        """This area's sealing and signing keys and the live directory (loaded once)."""
        if self._loaded_keys is None:
            if self.config.keys_dir is None:
                raise DisclosureError("this needs the area's key folder from the key ceremony (--keys)")
            from fedalert.node.disclosure.relay import load_area_keys

            self._loaded_keys = load_area_keys(Path(self.config.keys_dir))
        return self._loaded_keys

    def area(self) -> str:
        """This area's id: from the node certificate when the keys are at hand, else the overlay's."""
        if self.config.keys_dir is not None:
            return self._area_keys.area
        return self._protocol.area or ""

    # -- requests and decisions -------------------------------------------------
    def request(self, match_id: str, **request_fields) -> tuple[Request, outbox.Outgoing]:
        """Ask the other area of a match for case fields. *request_fields* are
        :func:`fedalert.node.disclosure.workflow.new_request`'s keyword arguments."""
        from fedalert.node.disclosure.relay import match_lookup

        match = match_lookup(self._store, self._area_keys.area)(match_id)
        row = self._store.match(match_id)
        return outbox.request_disclosure(
            self._db, self._audit, self._protocol, self._area_keys, match,
            record_id=row["record_id"] if row else None, now=self.now(), **request_fields)

    def list_requests(self, *, direction: str | None = None, status: str | None = None,
                      record_id: str | None = None) -> list[RequestRow]:
        return requests.list_requests(self._db, direction=direction, status=status, record_id=record_id)

    def get_request(self, request_id: str) -> RequestRow:
        return requests.get_request(self._db, request_id)

    def approve(self, request_id: str, *, by: str, fields=(), reason: str = "",
                consents: list[Consent] | tuple[Consent, ...] = (),
                exceptions: list[StatutoryException] | tuple[StatutoryException, ...] = ()
                ) -> tuple[Decision, list[outbox.Outgoing]]:
        return outbox.approve(self._db, self._audit, self._protocol, self._area_keys, request_id, decided_by=by,
                              now=self.now(), fields=fields, reason=reason, consents=consents,
                              exceptions=exceptions)

    def refuse(self, request_id: str, *, by: str, reason: str) -> tuple[Decision, outbox.Outgoing]:
        return outbox.refuse(self._db, self._audit, self._protocol, self._area_keys, request_id, reason=reason,
                             decided_by=by, now=self.now())

    def read_release(self, release_id: str, *, viewer: str) -> Release:
        """Open a received release (an audited view: who and when)."""
        rows = [r for r in self.list_requests(direction="outgoing") if r.release_id == release_id]
        if not rows:
            raise NotFound(f"no received release {release_id!r}; list them with fedalert disclose list")
        sender = rows[0].request.holding_area
        return receive.read_received_release(
            self._db, self._audit, release_id, viewer=viewer, my_area=self._area_keys.area,
            my_key=self._area_keys.sealing_key, sender_key=self._area_keys.directory.signing_public(sender),
            now=self.now())

    def complete_emergency(self, request_id: str, *, by: str, rationale: str,
                           consents: list[Consent] | tuple[Consent, ...]) -> bool:
        return lifecycle.complete_emergency_record(self._db, self._audit, request_id, rationale=rationale,
                                                   consents=consents, completed_by=by, now=self.now())

    def legal_hold(self, release_id: str, *, by: str, hold: bool, reason: str) -> None:
        receive.set_legal_hold(self._db, self._audit, release_id, hold=hold, reason=reason, by=by, now=self.now())

    def close_for_area_withdrawal(self, area: str) -> list[RequestRow]:
        return lifecycle.close_for_area_withdrawal(self._db, self._audit, area, now=self.now())

    def close_for_partner_withdrawal(self, partner: str) -> list[RequestRow]:
        return lifecycle.close_for_partner_withdrawal(self._db, self._audit, partner, now=self.now())

    # -- statements -----------------------------------------------------------------
    def sharing_statement(self, record_id: str, *, area: str) -> str:
        return statement.sharing_statement(self._db, record_id, area=area, today=self.now().date())

    def sar_listing(self, record_id: str) -> str:
        return statement.sar_listing(self._db, record_id)

    # -- the matcher's relay, for sites without a running node ------------------------
    def _connect(self):
        from fedalert.node.trust import NodeTrust, matcher_channel

        if not self.config.matcher:
            raise DisclosureError("this needs the matcher's address (--matcher)")
        keys_dir = Path(self.config.keys_dir) if self.config.keys_dir else None
        if keys_dir is None:
            raise DisclosureError("this needs the area's key folder from the key ceremony (--keys)")
        from fedalert.keys.certs import MATCHER_DNS_NAME

        name = self.config.matcher_name or MATCHER_DNS_NAME
        NodeTrust(keys_dir).check_matcher(self.config.matcher, name)
        return matcher_channel(keys_dir, self.config.matcher, name)

    def send(self) -> Sent:
        """Send the outbox once (what the running node does continuously)."""
        from fedalert.node.disclosure.relay import send_outbox

        channel, stub = self._connect()
        with channel:
            stats = send_outbox(self._db, stub)
        return Sent(stats.sent, stats.held)

    def flush(self, *, idle: float = 2.0) -> Flushed:
        """Send the outbox, then receive waiting envelopes until none arrives for *idle* seconds."""
        from fedalert.node.disclosure.relay import Receiver, drain_envelopes, send_outbox

        channel, stub = self._connect()
        with channel:
            stats = send_outbox(self._db, stub)
            got = drain_envelopes(Receiver(self._store, self._audit, self._protocol, self._area_keys), stub,
                                  idle_timeout=idle)
        return Flushed(Sent(stats.sent, stats.held), got)

    # -- breach and complaint registers ---------------------------------------------
    def record_breach(self, *, summary: str, reported_by: str, aware_at: _dt.datetime | None = None) -> Breach:
        now = self.now()
        return registers.record_breach(self._db, self._audit, aware_at=aware_at or now, reported_by=reported_by,
                                       summary=summary, now=now)

    def list_breaches(self, *, open_only: bool = False) -> list[Breach]:
        return registers.list_breaches(self._db, open_only=open_only)

    def breach_clock(self, breach: Breach) -> BreachClock:
        return registers.breach_clock(breach, self.now())

    def notify_ico(self, breach_id: str, *, at: _dt.datetime | None = None, delay_reason: str = "") -> Breach:
        return registers.notify_ico(self._db, self._audit, breach_id, at=at or self.now(), delay_reason=delay_reason)

    def decide_not_to_report(self, breach_id: str, *, reason: str, by: str) -> Breach:
        return registers.decide_not_to_report(self._db, self._audit, breach_id, reason=reason, by=by, now=self.now())

    def close_breach(self, breach_id: str, *, by: str) -> Breach:
        return registers.close_breach(self._db, self._audit, breach_id, by=by, now=self.now())

    def record_complaint(self, *, channel: str, summary: str) -> Complaint:
        return registers.record_complaint(self._db, self._audit, received_at=self.now(), channel=channel,
                                          summary=summary)

    def list_complaints(self) -> list[Complaint]:
        return registers.list_complaints(self._db)

    def acknowledge_complaint(self, complaint_id: str) -> Complaint:
        return registers.acknowledge_complaint(self._db, self._audit, complaint_id, at=self.now())

    def close_complaint(self, complaint_id: str, *, outcome: str, told_about_ico: bool) -> Complaint:
        return registers.close_complaint(self._db, self._audit, complaint_id, outcome=outcome,
                                         told_about_ico=told_about_ico, now=self.now())
