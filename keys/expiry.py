"""Certificate expiry, shown ahead of time.

``fedalert keys show`` flags certificates that expire within
:data:`WARN_DAYS`; the matcher and each node log a WARNING at start and then
once a day when their own certificate or the CA expires within that window
(:class:`ExpiryMonitor`). Renew with ``fedalert keys renew``.
"""

from __future__ import annotations

import datetime as _dt
import logging
import threading
from pathlib import Path

from fedalert.keys.errors import KeyFileError
from fedalert.keys.keyfiles import load_cert

WARN_DAYS = 30
CHECK_EVERY_S = 86_400.0

log = logging.getLogger(__name__)


def days_left(not_after: _dt.datetime, now: _dt.datetime | None = None) -> float:
    now = now or _dt.datetime.now(_dt.timezone.utc)
    return (not_after - now).total_seconds() / 86_400


def expiry_warnings(certs: dict[str, Path], *, now: _dt.datetime | None = None,
                    warn_days: int = WARN_DAYS) -> list[str]:
    """One line per certificate in ``certs`` (label -> PEM path) that expires within ``warn_days``."""
    out = []
    for label, path in certs.items():
        try:
            cert = load_cert(path)
        except KeyFileError as exc:
            out.append(f"{label} certificate unreadable: {exc}")
            continue
        left = days_left(cert.not_valid_after_utc, now)
        end = cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
        if left <= 0:
            out.append(f"{label} certificate EXPIRED on {end}; ask the key custodian to renew it "
                       "(fedalert keys renew)")
        elif left <= warn_days:
            out.append(f"{label} certificate expires in {int(left)} day(s), on {end}; ask the key custodian to "
                       "renew it (fedalert keys renew)")
    return out


class ExpiryMonitor(threading.Thread):
    """Logs expiry warnings at start and then every ``every_s`` seconds until stopped."""

    def __init__(self, certs: dict[str, Path], *, role: str, every_s: float = CHECK_EVERY_S,
                 warn_days: int = WARN_DAYS, logger: logging.Logger | None = None):
        super().__init__(name=f"{role}-cert-expiry", daemon=True)
        self.certs, self.role, self.every_s, self.warn_days = dict(certs), role, every_s, warn_days
        self.log = logger or log
        self.stopping = threading.Event()

    def check_now(self) -> list[str]:
        lines = expiry_warnings(self.certs, warn_days=self.warn_days)
        for line in lines:
            self.log.warning("%s: %s", self.role, line)
        return lines

    def run(self) -> None:
        while not self.stopping.is_set():
            self.check_now()
            self.stopping.wait(self.every_s)

    def stop(self) -> None:
        self.stopping.set()
