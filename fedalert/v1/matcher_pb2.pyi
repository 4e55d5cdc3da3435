from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AlertType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ALERT_TYPE_UNSPECIFIED: _ClassVar[AlertType]
    ALERT_TYPE_NEW: _ClassVar[AlertType]
    ALERT_TYPE_UPGRADED: _ClassVar[AlertType]
    ALERT_TYPE_WITHDRAWN: _ClassVar[AlertType]
    ALERT_TYPE_DOWNGRADED: _ClassVar[AlertType]
ALERT_TYPE_UNSPECIFIED: AlertType
ALERT_TYPE_NEW: AlertType
ALERT_TYPE_UPGRADED: AlertType
ALERT_TYPE_WITHDRAWN: AlertType
ALERT_TYPE_DOWNGRADED: AlertType

class RecordTokens(_message.Message):
    __slots__ = ("handle", "key_id", "kinds", "counts", "values")
    HANDLE_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    handle: str
    key_id: str
    kinds: _containers.RepeatedScalarFieldContainer[str]
    counts: _containers.RepeatedScalarFieldContainer[int]
    values: bytes
    def __init__(self, handle: _Optional[str] = ..., key_id: _Optional[str] = ..., kinds: _Optional[_Iterable[str]] = ..., counts: _Optional[_Iterable[int]] = ..., values: _Optional[bytes] = ...) -> None: ...

class PublishRequest(_message.Message):
    __slots__ = ("batch_id", "records")
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    records: _containers.RepeatedCompositeFieldContainer[RecordTokens]
    def __init__(self, batch_id: _Optional[str] = ..., records: _Optional[_Iterable[_Union[RecordTokens, _Mapping]]] = ...) -> None: ...

class PublishResponse(_message.Message):
    __slots__ = ("records_accepted", "tokens_accepted", "duplicate")
    RECORDS_ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    TOKENS_ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    records_accepted: int
    tokens_accepted: int
    duplicate: bool
    def __init__(self, records_accepted: _Optional[int] = ..., tokens_accepted: _Optional[int] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class WithdrawRequest(_message.Message):
    __slots__ = ("handle", "reason")
    HANDLE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    handle: str
    reason: str
    def __init__(self, handle: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class WithdrawResponse(_message.Message):
    __slots__ = ("matches_withdrawn",)
    MATCHES_WITHDRAWN_FIELD_NUMBER: _ClassVar[int]
    matches_withdrawn: int
    def __init__(self, matches_withdrawn: _Optional[int] = ...) -> None: ...

class Alert(_message.Message):
    __slots__ = ("cursor", "alert_id", "match_id", "type", "handle", "other_area", "tier", "key_kinds", "score", "created_unix_ms")
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    MATCH_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    HANDLE_FIELD_NUMBER: _ClassVar[int]
    OTHER_AREA_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    KEY_KINDS_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    cursor: int
    alert_id: str
    match_id: str
    type: AlertType
    handle: str
    other_area: str
    tier: str
    key_kinds: _containers.RepeatedScalarFieldContainer[str]
    score: float
    created_unix_ms: int
    def __init__(self, cursor: _Optional[int] = ..., alert_id: _Optional[str] = ..., match_id: _Optional[str] = ..., type: _Optional[_Union[AlertType, str]] = ..., handle: _Optional[str] = ..., other_area: _Optional[str] = ..., tier: _Optional[str] = ..., key_kinds: _Optional[_Iterable[str]] = ..., score: _Optional[float] = ..., created_unix_ms: _Optional[int] = ...) -> None: ...

class WatchAlertsRequest(_message.Message):
    __slots__ = ("after_cursor",)
    AFTER_CURSOR_FIELD_NUMBER: _ClassVar[int]
    after_cursor: int
    def __init__(self, after_cursor: _Optional[int] = ...) -> None: ...

class AckAlertRequest(_message.Message):
    __slots__ = ("alert_id",)
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    alert_id: str
    def __init__(self, alert_id: _Optional[str] = ...) -> None: ...

class AckAlertResponse(_message.Message):
    __slots__ = ("acknowledged",)
    ACKNOWLEDGED_FIELD_NUMBER: _ClassVar[int]
    acknowledged: bool
    def __init__(self, acknowledged: _Optional[bool] = ...) -> None: ...

class CountAlertsRequest(_message.Message):
    __slots__ = ("after_cursor",)
    AFTER_CURSOR_FIELD_NUMBER: _ClassVar[int]
    after_cursor: int
    def __init__(self, after_cursor: _Optional[int] = ...) -> None: ...

class CountAlertsResponse(_message.Message):
    __slots__ = ("queued", "last_cursor")
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    LAST_CURSOR_FIELD_NUMBER: _ClassVar[int]
    queued: int
    last_cursor: int
    def __init__(self, queued: _Optional[int] = ..., last_cursor: _Optional[int] = ...) -> None: ...

class Envelope(_message.Message):
    __slots__ = ("cursor", "envelope_id", "match_id", "from_area", "to_area", "kind", "sealed", "created_unix_ms")
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    ENVELOPE_ID_FIELD_NUMBER: _ClassVar[int]
    MATCH_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_AREA_FIELD_NUMBER: _ClassVar[int]
    TO_AREA_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SEALED_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    cursor: int
    envelope_id: str
    match_id: str
    from_area: str
    to_area: str
    kind: str
    sealed: bytes
    created_unix_ms: int
    def __init__(self, cursor: _Optional[int] = ..., envelope_id: _Optional[str] = ..., match_id: _Optional[str] = ..., from_area: _Optional[str] = ..., to_area: _Optional[str] = ..., kind: _Optional[str] = ..., sealed: _Optional[bytes] = ..., created_unix_ms: _Optional[int] = ...) -> None: ...

class SendEnvelopeRequest(_message.Message):
    __slots__ = ("envelope_id", "match_id", "to_area", "kind", "sealed")
    ENVELOPE_ID_FIELD_NUMBER: _ClassVar[int]
    MATCH_ID_FIELD_NUMBER: _ClassVar[int]
    TO_AREA_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SEALED_FIELD_NUMBER: _ClassVar[int]
    envelope_id: str
    match_id: str
    to_area: str
    kind: str
    sealed: bytes
    def __init__(self, envelope_id: _Optional[str] = ..., match_id: _Optional[str] = ..., to_area: _Optional[str] = ..., kind: _Optional[str] = ..., sealed: _Optional[bytes] = ...) -> None: ...

class SendEnvelopeResponse(_message.Message):
    __slots__ = ("duplicate",)
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    duplicate: bool
    def __init__(self, duplicate: _Optional[bool] = ...) -> None: ...

class WatchEnvelopesRequest(_message.Message):
    __slots__ = ("after_cursor",)
    AFTER_CURSOR_FIELD_NUMBER: _ClassVar[int]
    after_cursor: int
    def __init__(self, after_cursor: _Optional[int] = ...) -> None: ...

class AckEnvelopeRequest(_message.Message):
    __slots__ = ("envelope_id",)
    ENVELOPE_ID_FIELD_NUMBER: _ClassVar[int]
    envelope_id: str
    def __init__(self, envelope_id: _Optional[str] = ...) -> None: ...

class AckEnvelopeResponse(_message.Message):
    __slots__ = ("acknowledged",)
    ACKNOWLEDGED_FIELD_NUMBER: _ClassVar[int]
    acknowledged: bool
    def __init__(self, acknowledged: _Optional[bool] = ...) -> None: ...

class SealedKeyset(_message.Message):
    __slots__ = ("federation", "area", "key_id", "serial", "sealed")
    FEDERATION_FIELD_NUMBER: _ClassVar[int]
    AREA_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    SERIAL_FIELD_NUMBER: _ClassVar[int]
    SEALED_FIELD_NUMBER: _ClassVar[int]
    federation: str
    area: str
    key_id: str
    serial: int
    sealed: bytes
    def __init__(self, federation: _Optional[str] = ..., area: _Optional[str] = ..., key_id: _Optional[str] = ..., serial: _Optional[int] = ..., sealed: _Optional[bytes] = ...) -> None: ...

class PostKeysetRequest(_message.Message):
    __slots__ = ("keyset",)
    KEYSET_FIELD_NUMBER: _ClassVar[int]
    keyset: SealedKeyset
    def __init__(self, keyset: _Optional[_Union[SealedKeyset, _Mapping]] = ...) -> None: ...

class PostKeysetResponse(_message.Message):
    __slots__ = ("duplicate",)
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    duplicate: bool
    def __init__(self, duplicate: _Optional[bool] = ...) -> None: ...

class FetchKeysetsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class FetchKeysetsResponse(_message.Message):
    __slots__ = ("keysets",)
    KEYSETS_FIELD_NUMBER: _ClassVar[int]
    keysets: _containers.RepeatedCompositeFieldContainer[SealedKeyset]
    def __init__(self, keysets: _Optional[_Iterable[_Union[SealedKeyset, _Mapping]]] = ...) -> None: ...

class AckKeysetRequest(_message.Message):
    __slots__ = ("serial",)
    SERIAL_FIELD_NUMBER: _ClassVar[int]
    serial: int
    def __init__(self, serial: _Optional[int] = ...) -> None: ...

class AckKeysetResponse(_message.Message):
    __slots__ = ("acknowledged",)
    ACKNOWLEDGED_FIELD_NUMBER: _ClassVar[int]
    acknowledged: bool
    def __init__(self, acknowledged: _Optional[bool] = ...) -> None: ...
