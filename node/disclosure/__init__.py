"""Disclosure under the information sharing protocol: the public surface.

Front ends (the ``fedalert disclose`` CLI and the web console) use only what
this module exports: :class:`DisclosureService`, the one service API, and the
values it takes and returns. ``tests/test_layering.py`` checks that neither
front end reaches past it.

Inside the package, one module per concept:

- :mod:`.errors`: typed errors (each with a stable ``rule`` code where a
  protocol rule is broken);
- :mod:`.law`: the fixed lists a protocol may narrow (purposes, lawful bases,
  Art. 9 and Sch. 8 conditions, channels, subjects);
- :mod:`.protocol`: the national protocol file and the area overlay;
- :mod:`.policy`: the rules, as pure functions;
- :mod:`.model`: request, decision and release, their statuses and canonical JSON;
- :mod:`.envelopes`: the seal context, sealing and opening;
- :mod:`.casefields`: the case values of this area's own records;
- :mod:`.requests`: requests on file (rows, status changes, queries);
- :mod:`.workflow`: request, decide, release, and receiving a request or decision;
- :mod:`.receive`: accepting a sealed release, the audited view, retention, legal hold;
- :mod:`.lifecycle`: emergency record completion, closing on withdrawal;
- :mod:`.outbox`: sealing into the outbox in the state change's transaction, and dispatching received envelopes;
- :mod:`.relay`: the node's gRPC side of the relay (send the outbox, watch envelopes, housekeeping);
- :mod:`.registers`: breaches and complaints;
- :mod:`.statement`: the sharing statement, the SAR listing and the text views;
- :mod:`.accounts`: people, roles, passwords with TOTP, lockout, sessions;
- :mod:`.service`: the service API (its methods grouped in :mod:`._work`).

The node's own machinery (its daemon, the importer) calls the domain modules
directly; nothing in the package imports a front end, and no module imports
one that imports it (``tests/test_layering.py`` looks for import cycles).
"""

from fedalert.node.disclosure.errors import (
    AccessDenied,
    AccountError,
    AuthError,
    ConsentError,
    LoginFailed,
    NotAuthenticated,
    DecisionInvalid,
    DisclosureError,
    NotFound,
    PayloadError,
    PolicyError,
    ProtocolFileError,
    RegisterError,
    ReleaseRejected,
    StatusError,
)
from fedalert.node.disclosure.law import CHANNELS, LAWFUL_BASES, PURPOSES, URGENCIES
from fedalert.node.disclosure.model import (
    Consent,
    Decision,
    Release,
    ReleasedItem,
    Request,
    StatutoryException,
    Withheld,
    parse_consent,
    parse_exception,
)
from fedalert.node.disclosure.outbox import Dispatched, Outgoing
from fedalert.node.disclosure.registers import Breach, BreachClock, Complaint
from fedalert.node.disclosure.requests import RequestRow
from fedalert.node.disclosure._work import Flushed, Sent
from fedalert.node.disclosure.accounts import ROLES, NewCredentials, Principal, UserInfo, totp_code
from fedalert.node.disclosure.service import DisclosureService, ServiceConfig
from fedalert.node.disclosure.statement import render_release, render_request, render_request_list

__all__ = [
    # the service
    "DisclosureService",
    "ServiceConfig",
    "Sent",
    "Flushed",
    "Principal",
    "NewCredentials",
    "UserInfo",
    "ROLES",
    "totp_code",
    # values it takes and returns
    "Breach",
    "BreachClock",
    "Complaint",
    "Consent",
    "Decision",
    "Dispatched",
    "Outgoing",
    "Release",
    "ReleasedItem",
    "Request",
    "RequestRow",
    "StatutoryException",
    "Withheld",
    "parse_consent",
    "parse_exception",
    # text views (the CLI prints them; the console shows the same words)
    "render_release",
    "render_request",
    "render_request_list",
    # vocabulary
    "CHANNELS",
    "LAWFUL_BASES",
    "PURPOSES",
    "URGENCIES",
    # errors
    "AccessDenied",
    "AccountError",
    "AuthError",
    "LoginFailed",
    "NotAuthenticated",
    "ConsentError",
    "DecisionInvalid",
    "DisclosureError",
    "NotFound",
    "PayloadError",
    "PolicyError",
    "ProtocolFileError",
    "RegisterError",
    "ReleaseRejected",
    "StatusError",
]
