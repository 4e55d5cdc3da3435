"""Federation CA and member certificates (ECDSA P-256, SHA-256 signatures).

- CA: self-signed; basicConstraints CA (path length 0); keyUsage keyCertSign + cRLSign.
- Matcher: URI SAN spiffe://<fed>/matcher, DNS matcher, DNS localhost, IP 127.0.0.1, plus extra hosts.
  Area certificates also name localhost, so a client that reaches the matcher on
  loopback should verify the name ``matcher`` (MATCHER_DNS_NAME, e.g. with
  grpc.ssl_target_name_override) so that no area certificate can pose as it.
- Area: URI SAN spiffe://<fed>/area/<id>, DNS area-<id>, DNS localhost, IP 127.0.0.1.
- Members: keyUsage digitalSignature; extendedKeyUsage serverAuth + clientAuth.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import ipaddress
import re

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from fedalert.keys.errors import KeysUsageError, KeyFileError
from fedalert.keys.spiffe import area_spiffe_id, custodian_spiffe_id, keysvc_spiffe_id, matcher_spiffe_id

CA_DAYS = 3650
#: DNS name only the matcher certificate carries (area certificates carry area-<id>).
MATCHER_DNS_NAME = "matcher"
#: DNS name only the key service certificate carries; nodes check it (grpc.ssl_target_name_override).
KEYSVC_DNS_NAME = "keysvc"
LEAF_DAYS = 365
_SKEW = _dt.timedelta(minutes=5)
_DNS_RE = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")


def new_ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def cert_sha256(cert: x509.Certificate) -> str:
    """Hex SHA-256 of the certificate's DER encoding (its fingerprint)."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def parse_host(host: str, role: str = "matcher") -> x509.GeneralName:
    """A --matcher-host (--keysvc-host, --console-host) value as a SAN entry: an IP address or a
    DNS name. The names "matcher" and "keysvc" belong to those roles' certificates only."""
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not _DNS_RE.fullmatch(host or ""):
        raise KeysUsageError(f"invalid {role} host {host!r}: give a DNS name (e.g. {role}.example) or an IP address")
    if host.lower().startswith("area-"):
        raise KeysUsageError(f"invalid {role} host {host!r}: names starting with 'area-' belong to area certificates")
    for other in (MATCHER_DNS_NAME, KEYSVC_DNS_NAME):
        if host.lower() == other and role != other:
            raise KeysUsageError(f"invalid {role} host {host!r}: the name {other!r} belongs to the {other} certificate")
    return x509.DNSName(host.lower())


def _name(cn: str, federation: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "fedalert"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, federation),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ])


def _now(now: _dt.datetime | None) -> _dt.datetime:
    return (now or _dt.datetime.now(_dt.timezone.utc)).replace(microsecond=0)


def make_ca(federation: str, key: ec.EllipticCurvePrivateKey, *, days: int = CA_DAYS,
            now: _dt.datetime | None = None) -> x509.Certificate:
    """A self-signed federation CA certificate."""
    if days < 1:
        raise KeysUsageError("CA validity must be at least 1 day")
    t = _now(now)
    name = _name(f"{federation} federation CA", federation)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(t - _SKEW)
        .not_valid_after(t + _dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )


def _leaf(cn: str, federation: str, sans: list[x509.GeneralName], public_key, ca_cert: x509.Certificate,
          ca_key: ec.EllipticCurvePrivateKey, days: int, now: _dt.datetime | None,
          eku=(ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH)) -> x509.Certificate:
    if days < 1:
        raise KeysUsageError("certificate validity must be at least 1 day")
    t = _now(now)
    not_after = min(t + _dt.timedelta(days=days), ca_cert.not_valid_after_utc)
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        x509.CertificateBuilder()
        .subject_name(_name(cn, federation))
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(t - _SKEW)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )


def _localhost() -> list[x509.GeneralName]:
    return [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]


def make_matcher_cert(federation: str, public_key, ca_cert, ca_key, *, hosts: list[str] = (),
                      days: int = LEAF_DAYS, now=None) -> x509.Certificate:
    sans: list[x509.GeneralName] = [x509.UniformResourceIdentifier(matcher_spiffe_id(federation)),
                                    x509.DNSName(MATCHER_DNS_NAME)]
    sans += _localhost()
    for h in hosts:
        entry = parse_host(h, "matcher")
        if entry not in sans:
            sans.append(entry)
    return _leaf("matcher", federation, sans, public_key, ca_cert, ca_key, days, now)


def make_area_cert(federation: str, area: str, public_key, ca_cert, ca_key, *, days: int = LEAF_DAYS,
                   now=None) -> x509.Certificate:
    sans: list[x509.GeneralName] = [
        x509.UniformResourceIdentifier(area_spiffe_id(federation, area)),
        x509.DNSName(f"area-{area}"),
        *_localhost(),
    ]
    return _leaf(f"area-{area}", federation, sans, public_key, ca_cert, ca_key, days, now)


def make_keysvc_cert(federation: str, public_key, ca_cert, ca_key, *, hosts: list[str] = (),
                     days: int = LEAF_DAYS, now=None) -> x509.Certificate:
    """The OPRF key service: URI SAN spiffe://<fed>/keysvc, DNS keysvc (only it carries that name),
    localhost, 127.0.0.1, plus each --keysvc-host; serverAuth + clientAuth (its own health check)."""
    sans: list[x509.GeneralName] = [x509.UniformResourceIdentifier(keysvc_spiffe_id(federation)),
                                    x509.DNSName(KEYSVC_DNS_NAME), *_localhost()]
    for h in hosts:
        entry = parse_host(h, "keysvc")
        if entry not in sans:
            sans.append(entry)
    return _leaf("keysvc", federation, sans, public_key, ca_cert, ca_key, days, now)


def make_console_cert(federation: str, area: str, public_key, ca_cert, ca_key, *, hosts: list[str] = (),
                      days: int = LEAF_DAYS, now=None) -> x509.Certificate:
    """An area console's HTTPS certificate: server use only, no SPIFFE id (it can never act as
    the area towards the matcher), names console-<area>, localhost, 127.0.0.1 and *hosts*."""
    sans: list[x509.GeneralName] = [x509.DNSName(f"console-{area}"), *_localhost()]
    for h in hosts:
        entry = parse_host(h, "console")
        if entry not in sans:
            sans.append(entry)
    return _leaf(f"console-{area}", federation, sans, public_key, ca_cert, ca_key, days, now,
                 eku=(ExtendedKeyUsageOID.SERVER_AUTH,))


def make_custodian_cert(federation: str, public_key, ca_cert, ca_key, *, days: int = LEAF_DAYS,
                        now=None) -> x509.Certificate:
    """The key custodian's client certificate: URI SAN only (no DNS name, so it
    can never pose as a server), extended key usage clientAuth only."""
    sans: list[x509.GeneralName] = [x509.UniformResourceIdentifier(custodian_spiffe_id(federation))]
    return _leaf("custodian", federation, sans, public_key, ca_cert, ca_key, days, now,
                 eku=(ExtendedKeyUsageOID.CLIENT_AUTH,))


def verify_issued_by(cert: x509.Certificate, ca_cert: x509.Certificate) -> None:
    """Check that ``cert`` is signed by ``ca_cert`` (signature and issuer name only)."""
    if cert.issuer != ca_cert.subject:
        raise KeyFileError("certificate was not issued by this federation CA (issuer differs)")
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        raise KeyFileError("certificate signature does not verify under this federation CA") from None
