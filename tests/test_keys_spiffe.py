"""SPIFFE ids: strict parsing and reading the area id from a certificate."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fedalert.keys import IdentityError, KeysUsageError, area_from_cert, area_spiffe_id, parse_spiffe_id
from fedalert.keys.spiffe import identity_from_cert, matcher_spiffe_id


def test_build_and_parse():
    assert area_spiffe_id("fed", "north") == "spiffe://fed/area/north"
    assert matcher_spiffe_id("fed.example") == "spiffe://fed.example/matcher"
    assert parse_spiffe_id("spiffe://fed/area/north-2") == ("fed", "area", "north-2")
    assert parse_spiffe_id("spiffe://fed.example/matcher") == ("fed.example", "matcher", None)


@pytest.mark.parametrize("uri", [
    "spiffe://fed/area/North", "spiffe://fed/area/", "spiffe://fed/area", "spiffe://fed/area/a/b",
    "spiffe://fed/area/a/", "spiffe://fed/matcher/", "spiffe://fed/Matcher", "spiffe://fed/other/a",
    "spiffe://Fed/area/a", "spiffe://fed:443/area/a", "spiffe://u@fed/area/a", "spiffe://fed/area/a?x=1",
    "spiffe://fed/area/a#f", "spiffe://fed/area/%61", "https://fed/area/a", "SPIFFE://fed/area/a",
    "spiffe:///area/a", "spiffe://fed//area/a", " spiffe://fed/area/a", "spiffe://fed/area/a\n",
    "spiffe://fed/area/" + "a" * 33, "", "spiffe://fed/area/-a",
])
def test_parse_rejects_everything_else(uri):
    with pytest.raises(IdentityError):
        parse_spiffe_id(uri)


def test_build_rejects_bad_parts():
    with pytest.raises(KeysUsageError):
        area_spiffe_id("fed", "a/b")
    with pytest.raises(KeysUsageError):
        area_spiffe_id("Fed", "a")


def _cert(sans: list[x509.GeneralName] | None) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "t")])
    now = dt.datetime.now(dt.timezone.utc)
    b = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
         .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1)))
    if sans is not None:
        b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return b.sign(key, hashes.SHA256())


URI = x509.UniformResourceIdentifier


def test_area_from_cert():
    assert area_from_cert(_cert([URI("spiffe://fed/area/north"), x509.DNSName("localhost")]), "fed") == "north"


@pytest.mark.parametrize("sans,match", [
    (None, "no subject alternative name"),
    ([x509.DNSName("area-north")], "no URI SAN"),
    ([URI("spiffe://fed/area/north"), URI("spiffe://fed/area/south")], "exactly one"),
    ([URI("spiffe://fed/area/north"), URI("https://example.test/")], "exactly one"),
    ([URI("spiffe://other/area/north")], "federation 'other'"),
    ([URI("spiffe://fed/matcher")], "not an area"),
    ([URI("spiffe://fed/area/north/extra")], "not a fedalert SPIFFE id"),
])
def test_area_from_cert_refuses(sans, match):
    with pytest.raises(IdentityError, match=match):
        area_from_cert(_cert(sans), "fed")


def test_identity_from_cert_matcher():
    assert identity_from_cert(_cert([URI("spiffe://fed/matcher")]), "fed") == ("matcher", None)
