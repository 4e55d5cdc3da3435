"""SPIFFE ids of federation members, and reading them from certificates.

A member's identity is the one URI SAN in its certificate:
``spiffe://<federation>/matcher``, ``spiffe://<federation>/custodian``,
``spiffe://<federation>/keysvc`` (the OPRF key service) or
``spiffe://<federation>/area/<id>``.
Parsing is strict: anything else (other paths, query, fragment, port, user
info, percent-escapes, upper case, trailing slash) is refused.
"""

from __future__ import annotations

import re

from cryptography import x509

from fedalert.keys.errors import IdentityError, KeysUsageError

AREA_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
# A SPIFFE trust domain: lower-case letters, digits, dot, dash, underscore.
FEDERATION_RE = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,61}[a-z0-9])?$")

_SPIFFE_RE = re.compile(
    r"^spiffe://(?P<fed>[a-z0-9](?:[a-z0-9._-]{0,61}[a-z0-9])?)"
    r"/(?:(?P<matcher>matcher)|(?P<custodian>custodian)|(?P<keysvc>keysvc)|area/(?P<area>[a-z0-9][a-z0-9-]{0,31}))$"
)

ROLE_MATCHER = "matcher"
ROLE_AREA = "area"
#: The key custodian's client identity: it may only post sealed keysets to the matcher.
ROLE_CUSTODIAN = "custodian"
#: The OPRF key service (token mode oprf): it serves areas, and is a client of nobody.
ROLE_KEYSVC = "keysvc"


def check_area_id(area: str) -> str:
    """Return ``area`` if it is a valid area id, else raise KeysUsageError."""
    if not isinstance(area, str) or not AREA_ID_RE.fullmatch(area):
        raise KeysUsageError(
            f"invalid area id {area!r}: use 1-32 characters, lower-case letters, digits "
            "and '-', starting with a letter or digit"
        )
    return area


def check_federation(federation: str) -> str:
    """Return ``federation`` if it is a valid federation name (SPIFFE trust domain)."""
    if not isinstance(federation, str) or not FEDERATION_RE.fullmatch(federation):
        raise KeysUsageError(
            f"invalid federation name {federation!r}: use 1-63 characters, lower-case letters, "
            "digits, '.', '-' or '_', starting and ending with a letter or digit"
        )
    return federation


def area_spiffe_id(federation: str, area: str) -> str:
    """``spiffe://<federation>/area/<area>``, after checking both parts."""
    return f"spiffe://{check_federation(federation)}/area/{check_area_id(area)}"


def matcher_spiffe_id(federation: str) -> str:
    """``spiffe://<federation>/matcher``."""
    return f"spiffe://{check_federation(federation)}/matcher"


def custodian_spiffe_id(federation: str) -> str:
    """``spiffe://<federation>/custodian``."""
    return f"spiffe://{check_federation(federation)}/custodian"


def keysvc_spiffe_id(federation: str) -> str:
    """``spiffe://<federation>/keysvc``."""
    return f"spiffe://{check_federation(federation)}/keysvc"


def parse_spiffe_id(uri: str) -> tuple[str, str, str | None]:
    """Split a member SPIFFE id into ``(federation, role, area or None)``.

    ``role`` is ``"matcher"``, ``"custodian"``, ``"keysvc"`` or ``"area"``. Raises IdentityError on anything
    that is not exactly one of the two forms.
    """
    if not isinstance(uri, str):
        raise IdentityError("SPIFFE id must be a string")
    m = _SPIFFE_RE.fullmatch(uri)
    if m is None:
        shown = uri if len(uri) <= 120 else uri[:120] + "..."
        raise IdentityError(
            f"{shown!r} is not a fedalert SPIFFE id; expected spiffe://<federation>/matcher, "
            "spiffe://<federation>/custodian, spiffe://<federation>/keysvc or spiffe://<federation>/area/<id>"
        )
    if m.group("matcher"):
        return m.group("fed"), ROLE_MATCHER, None
    if m.group("custodian"):
        return m.group("fed"), ROLE_CUSTODIAN, None
    if m.group("keysvc"):
        return m.group("fed"), ROLE_KEYSVC, None
    return m.group("fed"), ROLE_AREA, m.group("area")


def identity_from_cert(cert: x509.Certificate, federation: str) -> tuple[str, str | None]:
    """Return ``(role, area or None)`` named by the certificate's single URI SAN.

    Raises IdentityError if the certificate has no URI SAN, more than one, or
    one that is malformed or belongs to another federation.
    """
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        raise IdentityError("certificate has no subject alternative name, so it names no federation member") from None
    uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    if not uris:
        raise IdentityError("certificate has no URI SAN, so it names no federation member")
    if len(uris) > 1:
        raise IdentityError(f"certificate has {len(uris)} URI SANs; a member certificate must have exactly one")
    fed, role, area = parse_spiffe_id(uris[0])
    if fed != federation:
        raise IdentityError(f"certificate belongs to federation {fed!r}, not {federation!r}")
    return role, area


def area_from_cert(cert: x509.Certificate, federation: str) -> str:
    """Return the area id bound into an area certificate; raise IdentityError otherwise."""
    role, area = identity_from_cert(cert, federation)
    if role != ROLE_AREA or area is None:
        raise IdentityError(f"certificate names the {role}, not an area")
    return area
