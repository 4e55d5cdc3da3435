"""Revocation at the matcher: refuse at once, then withdraw the area.

``Authz`` already refuses a revoked area's certificate on every call and on
open streams (they re-check at least every second). This module adds the
second half of an area's withdrawal: when the directory revokes an area, the
matcher purges every record it published (``Engine.purge_area``), which
withdraws its matches and alerts the other areas, and forgets keysets waiting
for it. The purge is audited (``area_revoked``).

:class:`DirectoryWatcher` re-reads the directory file about once a second, so
a revocation takes effect without any call from anyone and without a restart.
The enforcement is idempotent and also runs at start: a matcher that was down
when the revocation arrived purges the area when it comes back.
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)

POLL_S = 1.0


def enforce(engine, directory) -> dict[str, int]:
    """Purge every revoked area that still has records here; return area -> matches withdrawn."""
    done: dict[str, int] = {}
    for entry in directory.revoked:
        area = entry["area"]
        if not area or area in done:
            continue
        if not engine.store.area_has_records(area):
            continue
        n = engine.purge_area(area, "area_revoked")
        engine.store.drop_keysets(area)
        engine.audit_event("area_revoked", area=area, directory_version=directory.version, matches_withdrawn=n,
                           reason=entry["reason"][:200])
        log.warning("area %s is revoked (directory version %d): its records were purged, %d match(es) withdrawn",
                    area, directory.version, n)
        done[area] = n
    return done


class DirectoryWatcher(threading.Thread):
    """Re-reads the directory (through Authz) and enforces revocations until stopped."""

    def __init__(self, authz, engine, poll_s: float = POLL_S):
        super().__init__(name="directory-watcher", daemon=True)
        self.authz, self.engine, self.poll_s = authz, engine, poll_s
        self.stopping = threading.Event()
        self._seen_version = None

    def check_now(self) -> dict[str, int]:
        d = self.authz.directory()
        if d.version == self._seen_version:
            return {}
        done = enforce(self.engine, d)
        self._seen_version = d.version
        return done

    def run(self) -> None:
        while not self.stopping.wait(self.poll_s):
            try:
                self.check_now()
            except Exception:  # noqa: BLE001 - keep watching; a bad file is logged by type only
                log.exception("directory watcher error")

    def stop(self) -> None:
        self.stopping.set()
