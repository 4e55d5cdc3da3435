"""fedalert.keys: key ceremony, token keyset, signed directory, sealing, secret files.

Public surface (see docs/INTERFACES.md and docs/KEYS.md).
"""

from fedalert.keys.ceremony import add_area, init_federation, renew_area, revoke_area
from fedalert.keys.directory import Directory
from fedalert.keys.errors import (
    CeremonyError,
    DirectoryError,
    IdentityError,
    KeyFileError,
    KeysError,
    KeysetError,
    KeysUsageError,
    SealError,
)
from fedalert.keys.keyfiles import load_sealing_key, load_signing_key
from fedalert.keys.keyset import TokenKeyset
from fedalert.keys.seal import open_sealed, seal
from fedalert.secretfile import read_secret, write_secret
from fedalert.keys.spiffe import area_from_cert, area_spiffe_id, parse_spiffe_id

__all__ = [
    "CeremonyError",
    "Directory",
    "DirectoryError",
    "IdentityError",
    "KeyFileError",
    "KeysError",
    "KeysUsageError",
    "KeysetError",
    "SealError",
    "TokenKeyset",
    "add_area",
    "area_from_cert",
    "area_spiffe_id",
    "init_federation",
    "load_sealing_key",
    "load_signing_key",
    "open_sealed",
    "parse_spiffe_id",
    "read_secret",
    "renew_area",
    "revoke_area",
    "seal",
    "write_secret",
]
