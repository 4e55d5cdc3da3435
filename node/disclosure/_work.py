"""The service's methods for disclosure work and the registers (mixed into DisclosureService).

Each method checks the actor first (``self._check``: session and role),
then calls one domain function with the user's id as the actor. Failed
decisions and release views are audited with the error's type and rule.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path

from fedalert.node.disclosure import lifecycle, outbox, receive, registers, requests, statement
from fedalert.node.disclosure.accounts import Principal
from fedalert.node.disclosure.errors import DisclosureError, NotFound
from fedalert.node.disclosure.model import Consent, Decision, Release, Request, StatutoryException
from fedalert.node.disclosure.registers import Breach, BreachClock, Complaint
from fedalert.node.disclosure.requests import RequestRow


@dataclass(frozen=True)
class Sent:
    """What one send round did: envelopes accepted by the matcher, and held back."""

    sent: int
    held: int


@dataclass(frozen=True)
class Flushed:
    sent: Sent
    received: list  # Dispatched, or None for an envelope refused (logged)


def _failure(exc: Exception) -> dict:
    return {"error": type(exc).__name__, "rule": getattr(exc, "rule", "") or getattr(exc, "reason", "") or ""}


class RequestsMixin:
    # -- requests and decisions -------------------------------------------------
    def request(self, actor: Principal, match_id: str, **request_fields) -> tuple[Request, outbox.Outgoing]:
        """Ask the other area of a match for case fields. *request_fields* are
        :func:`fedalert.node.disclosure.workflow.new_request`'s keyword arguments
        except ``requester``, which is the logged-in user."""
        from fedalert.node.disclosure.relay import match_lookup

        user = self._check(actor, "disclosure.request")
        match = match_lookup(self._store, self._area_keys.area)(match_id)
        row = self._store.match(match_id)
        return outbox.request_disclosure(
            self._db, self._audit, self._protocol, self._area_keys, match,
            record_id=row["record_id"] if row else None, now=self.now(), requester=user, match_id=match_id,
            **request_fields)

    def list_requests(self, actor: Principal, *, direction: str | None = None, status: str | None = None,
                      record_id: str | None = None) -> list[RequestRow]:
        self._check(actor, "requests.read")
        return requests.list_requests(self._db, direction=direction, status=status, record_id=record_id)

    def get_request(self, actor: Principal, request_id: str) -> RequestRow:
        self._check(actor, "requests.read")
        return requests.get_request(self._db, request_id)

    def approve(self, actor: Principal, request_id: str, *, fields=(), reason: str = "",
                consents: list[Consent] | tuple[Consent, ...] = (),
                exceptions: list[StatutoryException] | tuple[StatutoryException, ...] = ()
                ) -> tuple[Decision, list[outbox.Outgoing]]:
        user = self._check(actor, "disclosure.decide")
        try:
            return outbox.approve(self._db, self._audit, self._protocol, self._area_keys, request_id,
                                  decided_by=user, now=self.now(), fields=fields, reason=reason,
                                  consents=consents, exceptions=exceptions)
        except DisclosureError as exc:
            self._audit.append("disclosure.decision_failed", request_id=request_id[:64], user=user,
                               outcome="approve", **_failure(exc))
            raise

    def refuse(self, actor: Principal, request_id: str, *, reason: str) -> tuple[Decision, outbox.Outgoing]:
        user = self._check(actor, "disclosure.decide")
        try:
            return outbox.refuse(self._db, self._audit, self._protocol, self._area_keys, request_id,
                                 reason=reason, decided_by=user, now=self.now())
        except DisclosureError as exc:
            self._audit.append("disclosure.decision_failed", request_id=request_id[:64], user=user,
                               outcome="refuse", **_failure(exc))
            raise

    def read_release(self, actor: Principal, release_id: str) -> Release:
        """Open a received release (an audited view: who and when). A failed attempt is audited too."""
        user = self._check(actor, "release.read")
        try:
            rows = [r for r in requests.list_requests(self._db, direction="outgoing") if r.release_id == release_id]
            if not rows:
                raise NotFound(f"no received release {release_id!r}; the release column of "
                               "`fedalert disclose list --direction outgoing` names them")
            keys = self._area_keys
            return receive.read_received_release(
                self._db, self._audit, release_id, viewer=user, my_area=keys.area, my_key=keys.sealing_key,
                sender_key=keys.directory.signing_public(rows[0].request.holding_area), now=self.now())
        except Exception as exc:
            self._audit.append("disclosure.release_view_failed", release_id=str(release_id)[:64], viewer=user,
                               **_failure(exc))
            raise

    def complete_emergency(self, actor: Principal, request_id: str, *, rationale: str,
                           consents: list[Consent] | tuple[Consent, ...]) -> bool:
        user = self._check(actor, "emergency.complete")
        return lifecycle.complete_emergency_record(self._db, self._audit, request_id, rationale=rationale,
                                                   consents=consents, completed_by=user, now=self.now())

    def legal_hold(self, actor: Principal, release_id: str, *, hold: bool, reason: str) -> None:
        user = self._check(actor, "release.hold")
        receive.set_legal_hold(self._db, self._audit, release_id, hold=hold, reason=reason, by=user, now=self.now())

    def close_for_area_withdrawal(self, actor: Principal, area: str) -> list[RequestRow]:
        self._check(actor, "requests.close")
        return lifecycle.close_for_area_withdrawal(self._db, self._audit, area, now=self.now())

    def close_for_partner_withdrawal(self, actor: Principal, partner: str) -> list[RequestRow]:
        self._check(actor, "requests.close")
        return lifecycle.close_for_partner_withdrawal(self._db, self._audit, partner, now=self.now())

    # -- statements -----------------------------------------------------------------
    def sharing_statement(self, actor: Principal, record_id: str, *, area: str) -> str:
        self._check(actor, "statement.read")
        return statement.sharing_statement(self._db, record_id, area=area, today=self.now().date())

    def sar_listing(self, actor: Principal, record_id: str) -> str:
        self._check(actor, "statement.read")
        return statement.sar_listing(self._db, record_id)

    # -- the matcher's relay, for sites without a running node ------------------------
    def _connect(self):
        from fedalert.keys.certs import MATCHER_DNS_NAME
        from fedalert.node.trust import NodeTrust, matcher_channel

        if not self.config.matcher or self.config.keys_dir is None:
            raise DisclosureError("this needs the matcher's address (--matcher) and the area's keys (--keys)")
        keys_dir = Path(self.config.keys_dir)
        name = self.config.matcher_name or MATCHER_DNS_NAME
        NodeTrust(keys_dir).check_matcher(self.config.matcher, name)
        return matcher_channel(keys_dir, self.config.matcher, name)

    def send(self) -> Sent:
        """Send the outbox once (what the running node does continuously). Moves only sealed envelopes."""
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


class RegistersMixin:
    # -- breach and complaint registers ---------------------------------------------
    def record_breach(self, actor: Principal, *, summary: str, aware_at: _dt.datetime | None = None) -> Breach:
        user = self._check(actor, "registers.write")
        now = self.now()
        return registers.record_breach(self._db, self._audit, aware_at=aware_at or now, reported_by=user,
                                       summary=summary, now=now)

    def list_breaches(self, actor: Principal, *, open_only: bool = False) -> list[Breach]:
        self._check(actor, "registers.read")
        return registers.list_breaches(self._db, open_only=open_only)

    def breach_clock(self, breach: Breach) -> BreachClock:
        return registers.breach_clock(breach, self.now())

    def notify_ico(self, actor: Principal, breach_id: str, *, at: _dt.datetime | None = None,
                   delay_reason: str = "") -> Breach:
        self._check(actor, "registers.write")
        return registers.notify_ico(self._db, self._audit, breach_id, at=at or self.now(), delay_reason=delay_reason)

    def decide_not_to_report(self, actor: Principal, breach_id: str, *, reason: str) -> Breach:
        user = self._check(actor, "registers.write")
        return registers.decide_not_to_report(self._db, self._audit, breach_id, reason=reason, by=user,
                                              now=self.now())

    def close_breach(self, actor: Principal, breach_id: str) -> Breach:
        user = self._check(actor, "registers.write")
        return registers.close_breach(self._db, self._audit, breach_id, by=user, now=self.now())

    def record_complaint(self, actor: Principal, *, channel: str, summary: str) -> Complaint:
        self._check(actor, "registers.write")
        return registers.record_complaint(self._db, self._audit, received_at=self.now(), channel=channel,
                                          summary=summary)

    def list_complaints(self, actor: Principal) -> list[Complaint]:
        self._check(actor, "registers.read")
        return registers.list_complaints(self._db)

    def acknowledge_complaint(self, actor: Principal, complaint_id: str) -> Complaint:
        self._check(actor, "registers.write")
        return registers.acknowledge_complaint(self._db, self._audit, complaint_id, at=self.now())

    def close_complaint(self, actor: Principal, complaint_id: str, *, outcome: str, told_about_ico: bool) -> Complaint:
        self._check(actor, "registers.write")
        return registers.close_complaint(self._db, self._audit, complaint_id, outcome=outcome,
                                         told_about_ico=told_about_ico, now=self.now())
