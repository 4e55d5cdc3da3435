from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class EvaluateRequest(_message.Message):
    __slots__ = ("batch_id", "key_id", "blinded")
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    BLINDED_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    key_id: str
    blinded: bytes
    def __init__(self, batch_id: _Optional[str] = ..., key_id: _Optional[str] = ..., blinded: _Optional[bytes] = ...) -> None: ...

class EvaluateResponse(_message.Message):
    __slots__ = ("batch_id", "key_id", "evaluated", "proof", "count", "duplicate")
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    EVALUATED_FIELD_NUMBER: _ClassVar[int]
    PROOF_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    key_id: str
    evaluated: bytes
    proof: bytes
    count: int
    duplicate: bool
    def __init__(self, batch_id: _Optional[str] = ..., key_id: _Optional[str] = ..., evaluated: _Optional[bytes] = ..., proof: _Optional[bytes] = ..., count: _Optional[int] = ..., duplicate: _Optional[bool] = ...) -> None: ...
