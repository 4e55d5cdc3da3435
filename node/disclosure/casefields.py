"""Case values of this area's own records, each with its source partner and recorded date.

The importer stores them (:func:`replace_case_fields`, inside the record's
own transaction); a release is built from them. They never leave the node
except inside an approved, sealed release.
"""

from __future__ import annotations

import datetime as _dt

import sqlite_utils

from fedalert.node.disclosure import _sql as st
from fedalert.node.disclosure._sql import transaction
from fedalert.node.disclosure.errors import PolicyError
from fedalert.node.disclosure.law import SUBJECTS
from fedalert.node.disclosure.model import CaseField
from fedalert.node.disclosure.protocol import Protocol


def add_case_field(db: sqlite_utils.Database, protocol: Protocol, record_id: str, cf: CaseField) -> None:
    """Store one case value with its source partner and recorded date."""
    if cf.field not in protocol.fields:
        raise PolicyError(f"field {cf.field!r} is not in the protocol's field catalogue", field=cf.field)
    if cf.subject not in SUBJECTS:
        raise PolicyError(f"subject {cf.subject!r} is not one of {', '.join(SUBJECTS)}", field=cf.field)
    if cf.source_partner not in protocol.partners:
        raise PolicyError(f"source partner {cf.source_partner!r} is not a partner of this area", field=cf.field)
    if not isinstance(cf.recorded_on, _dt.date) or not cf.value.strip():
        raise PolicyError("a case value needs text and a recorded date", field=cf.field)
    with transaction(db):
        st.execute(
            db,
            "INSERT INTO disclosure_case_fields (record_id, field, value, subject, source_partner, recorded_on) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [record_id, cf.field, cf.value, cf.subject, cf.source_partner, cf.recorded_on.isoformat()],
        )


def replace_case_fields(db: sqlite_utils.Database, protocol: Protocol, record_id: str, items) -> None:
    """Replace every case value of a record (an import of a full export). Joins the caller's transaction."""
    with transaction(db):
        st.execute(db, "DELETE FROM disclosure_case_fields WHERE record_id = ?", [record_id])
        for cf in items:
            add_case_field(db, protocol, record_id, cf)


def case_fields(db: sqlite_utils.Database, record_id: str) -> list[CaseField]:
    return [
        CaseField(r["field"], r["value"], r["subject"], r["source_partner"], _dt.date.fromisoformat(r["recorded_on"]))
        for r in st.rows(db, "SELECT * FROM disclosure_case_fields WHERE record_id = ? ORDER BY id", [record_id])
    ]
