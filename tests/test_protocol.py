"""Protocol files: national + overlay merge, and clear errors naming file and key."""

from __future__ import annotations

import datetime as dt

import pytest

from fedalert.errors import ConfigError
from fedalert.node.disclosure.errors import ProtocolFileError
from fedalert.node.disclosure.protocol import bundled_national_path, bundled_overlay_example_path, load_protocol

from test_disclosure_support import OVERLAY_B, write

NATIONAL = bundled_national_path().read_text(encoding="utf-8")
OVERLAY_A = bundled_overlay_example_path().read_text(encoding="utf-8")


def test_bundled_national_protocol_loads():
    p = load_protocol(bundled_national_path())
    assert (p.id, p.version, p.status) == ("fedalert-national-isp", "2026.1", "live")
    assert p.effective == dt.date(2026, 4, 1) and p.review == dt.date(2027, 3, 31)
    assert set(p.purposes) == {"marac", "marac_transfer", "child_protection", "adult_protection", "dsdas", "emergency"}
    assert p.fields["gender_history"].category == "protected"
    assert p.fields["health"].special and p.fields["sexual_orientation"].special
    assert not p.fields["risk_level"].special
    assert p.area is None and p.partners == {}
    assert p.signoff_valid_days == 365


def test_overlay_narrows_and_adds_partners():
    p = load_protocol(bundled_national_path(), bundled_overlay_example_path())
    assert p.area == "area-a" and p.overlay_id == "area-a-local-isa"
    assert "dsdas" not in p.purposes  # disabled locally
    assert "sexual_orientation" not in p.purposes["marac"].fields  # removed locally
    assert "sexual_orientation" in p.purposes["marac_transfer"].fields  # untouched
    assert p.purposes["marac"].retention_days == 1095  # local retention lengthened
    assert p.emergency_completion_hours == 48
    assert p.effective == dt.date(2026, 5, 1)  # the later of national and overlay
    assert p.lead_partner().id == "area-a-council"
    police = p.partners["area-a-police"]
    assert police.type == "police" and police.public_authority
    assert not p.partners["area-a-refuge"].public_authority
    assert police.signoff.signatory and police.signoff.signed_on == dt.date(2026, 5, 2)
    assert "with local overlay area-a-local-isa v3" in p.label


def _err(tmp_path, national=NATIONAL, overlay=None) -> ProtocolFileError:
    n = write(tmp_path, "national.toml", national)
    o = write(tmp_path, "overlay.toml", overlay) if overlay is not None else None
    with pytest.raises(ProtocolFileError) as exc:
        load_protocol(n, o)
    assert isinstance(exc.value, ConfigError)  # CLI exit code 2
    return exc.value


@pytest.mark.parametrize(
    "old, new, key, words",
    [
        ('status = "live"', 'status = "pilot"', "protocol.status", "not one of"),
        ('dpia_ref = "DPIA-NAT-2026-01"\n', "", "protocol.dpia_ref", "DPIA"),
        ("retention_days = 730", "retention_days = 200", "protocol.retention_days", "repeat window"),
        ('category = "special"', 'category = "secret"', "fields.health.category", "not one of"),
        (
            'label = "Gender history"\ncategory = "protected"',
            'label = "Gender history"\ncategory = "special"',
            "fields.gender_history.category",
            "protected",
        ),
        (
            '"uk_gdpr_6_1_f", "dpa2018_s35"]',
            '"uk_gdpr_6_1_z", "dpa2018_s35"]',
            "protocol.lawful_bases",
            "uk_gdpr_6_1_z",
        ),
        ("[purposes.dsdas]", "[purposes.gossip]", "purposes.gossip", "unknown key"),
        (
            'lawful_bases = ["uk_gdpr_6_1_e", "dpa2018_s35"]\nchannels = ["outside_meeting"]',
            'lawful_bases = ["uk_gdpr_6_1_e", "dpa2018_s35"]\nchannels = ["carrier_pigeon"]',
            "purposes.dsdas.channels",
            "carrier_pigeon",
        ),
        (
            'fields = ["marac_contact", "risk_level", "current_risk_summary", "conditions"]',
            'fields = ["marac_contact", "shoe_size"]',
            "purposes.dsdas.fields",
            "shoe_size",
        ),
        ("effective = 2026-04-01", 'effective = "2026-04-01"', "protocol.effective", "TOML date"),
        ("review = 2027-03-31", "review = 2026-01-01", "protocol.review", "after the effective"),
        ("signoff_valid_days = 365", "signoff_valid_days = 365\ncolour = 1", "protocol.colour", "unknown key"),
    ],
)
def test_national_errors_name_file_and_key(tmp_path, old, new, key, words):
    assert old in NATIONAL
    e = _err(tmp_path, national=NATIONAL.replace(old, new, 1))
    assert e.key == key, str(e)
    assert e.path.endswith("national.toml")
    assert words in str(e)
    assert str(e).startswith(e.path + ": " + key)


def test_invalid_toml_is_named(tmp_path):
    e = _err(tmp_path, national="[protocol\nid=")
    assert "not valid TOML" in str(e) and e.path.endswith("national.toml")


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ProtocolFileError) as exc:
        load_protocol(tmp_path / "nope.toml")
    assert "file not found" in str(exc.value)


@pytest.mark.parametrize(
    "old, new, key, words",
    [
        ('extends_version = "2026.1"', 'extends_version = "2025.2"', "overlay.extends_version", "2025.2"),
        ('extends = "fedalert-national-isp"', 'extends = "other-isp"', "overlay.extends", "other-isp"),
        (
            "emergency_completion_hours = 48",
            "emergency_completion_hours = 96",
            "overlay.emergency_completion_hours",
            "only shorten",
        ),
        ("retention_days = 1095", "retention_days = 100", "overlay.retention_days", "repeat window"),
        (
            "[purposes.dsdas]\nenabled = false",
            '[purposes.dsdas]\nremove_fields = ["health"]',
            "purposes.dsdas.remove_fields",
            "health",
        ),
        (
            '[purposes.marac]\nremove_fields = ["sexual_orientation"]',
            '[purposes.marac]\nlawful_bases = ["uk_gdpr_6_1_e", "made_up"]',
            "purposes.marac.lawful_bases",
            "made_up",
        ),
        ('type = "police"', 'type = "army"', "partners.area-a-police.type", "army"),
        (
            'type = "third_sector"\nsector = "third_sector"',
            'type = "third_sector"\nsector = "statutory"',
            "partners.area-a-refuge.sector",
            "third_sector",
        ),
        ("signed_on = 2026-05-02\n", "", "partners.area-a-police.signed_on", "together"),
        ("lead = true\n", "", "partners", "exactly one partner"),
        (
            'signatory_role = "Caldicott Guardian"',
            'signatory_role = "Caldicott Guardian"\nlead = true',
            "partners",
            "found 2",
        ),
        ('area = "area-a"', 'area = "Area A!"', "overlay.area", "not a valid id"),
    ],
)
def test_overlay_errors_name_file_and_key(tmp_path, old, new, key, words):
    assert old in OVERLAY_A, old
    e = _err(tmp_path, overlay=OVERLAY_A.replace(old, new, 1))
    assert e.key == key, str(e)
    assert e.path.endswith("overlay.toml")
    assert words in str(e)


def test_overlay_cannot_add_a_purpose_the_national_file_lacks(tmp_path):
    national = NATIONAL[: NATIONAL.index("[purposes.dsdas]")] + NATIONAL[NATIONAL.index("[purposes.emergency]") :]
    overlay = OVERLAY_A.replace("[purposes.dsdas]\nenabled = false", "[purposes.dsdas]\nenabled = true")
    e = _err(tmp_path, national=national, overlay=overlay)
    assert e.key == "purposes.dsdas" and "cannot add purposes" in str(e)


def test_second_overlay_loads(tmp_path):
    p = load_protocol(bundled_national_path(), write(tmp_path, "b.toml", OVERLAY_B))
    assert p.area == "area-b" and "dsdas" in p.purposes and p.emergency_completion_hours == 72
