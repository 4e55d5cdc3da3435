"""Read-only views of ceremony output for ``keys show`` (never secrets)."""

from __future__ import annotations

from pathlib import Path

from fedalert.keys import ceremony as c
from fedalert.keys.certs import cert_sha256
from fedalert.keys.directory import Directory
from fedalert.keys.errors import CeremonyError, KeysError
from fedalert.keys.expiry import WARN_DAYS, days_left
from fedalert.keys.keyfiles import load_cert
from fedalert.keys.keyset import TokenKeyset


def _cert_info(path: Path) -> dict:
    cert = load_cert(path)
    left = days_left(cert.not_valid_after_utc)
    return {
        "file": str(path),
        "not_after": cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sha256": cert_sha256(cert),
        "days_left": int(left),
        # Flagged ahead of time (fedalert.keys.expiry.WARN_DAYS); renew with 'fedalert keys renew'.
        "expiry": "expired" if left <= 0 else "soon" if left <= WARN_DAYS else "ok",
    }


def _flag(cert: dict | None) -> str:
    if not cert:
        return ""
    if cert["expiry"] == "expired":
        return "  EXPIRED: renew now"
    if cert["expiry"] == "soon":
        return f"  EXPIRES IN {cert['days_left']} DAYS: renew (fedalert keys renew)"
    return ""


def describe_federation(out: Path) -> dict:
    """Members, certificate expiries, fingerprints, token key ids. No secret is read into the result."""
    out = Path(out)
    ca_dir = out / c.CA_DIR
    if not (ca_dir / c.DIRECTORY).exists():
        raise CeremonyError(f"{ca_dir / c.DIRECTORY} not found; give the folder used with 'fedalert keys init --out'")
    d = Directory.load(ca_dir / c.DIRECTORY, ca_dir / c.CA_CERT)
    info: dict = {
        "federation": d.federation,
        "directory_version": d.version,
        "issued_at": d.issued_at,
        "ca": _cert_info(ca_dir / c.CA_CERT),
        "matcher": {"spiffe_id": d.matcher_spiffe_id, "cert_sha256": d.matcher_cert_sha256},
        "areas": {},
        "token_keys": None,
    }
    if d.has_custodian:
        info["custodian"] = {"cert_sha256": d.custodian_cert_sha256}
        cu_cert = ca_dir / "custodian.crt"
        if cu_cert.exists():
            info["custodian"]["cert"] = _cert_info(cu_cert)
    m_cert = out / c.MATCHER_DIR / c.MATCHER_CERT
    if m_cert.exists():
        info["matcher"]["cert"] = _cert_info(m_cert)
    for area in d.areas:
        entry = {"spiffe_id": d.spiffe_id(area), "cert_sha256": d.cert_sha256(area), "revoked": d.is_revoked(area)}
        a_cert = out / c.AREAS_DIR / area / c.NODE_CERT
        if a_cert.exists():
            entry["cert"] = _cert_info(a_cert)
        info["areas"][area] = entry
    info["token_mode"] = d.token_mode
    if d.token_mode == "oprf":
        info["keysvc"] = {"cert_sha256": d.keysvc_cert_sha256, "hmac_key_ids": d.hmac_key_ids}
        ks_cert = out / "keysvc" / "keysvc.crt"
        if ks_cert.exists():
            info["keysvc"]["cert"] = _cert_info(ks_cert)
        info["oprf_keys"] = [{"key_id": k, "status": d.oprf_key_status(k), "primary": k == d.oprf_primary}
                             for k in d.oprf_key_ids]
    if (ca_dir / c.KEYSET).exists():
        try:
            info["token_keys"] = TokenKeyset.load(ca_dir / c.KEYSET).describe()
        except KeysError as exc:
            info["token_keys_error"] = str(exc)
    return info


def format_federation(info: dict) -> str:
    lines = [
        f"federation  {info['federation']}  (directory version {info['directory_version']}, issued {info['issued_at']})",
        f"CA          expires {info['ca']['not_after']}  sha256 {info['ca']['sha256']}{_flag(info['ca'])}",
    ]
    m = info["matcher"]
    exp = m.get("cert", {}).get("not_after", "?")
    lines.append(f"matcher     {m['spiffe_id']}  expires {exp}  sha256 {m['cert_sha256']}{_flag(m.get('cert'))}")
    if info.get("custodian"):
        cu = info["custodian"]
        exp = cu.get("cert", {}).get("not_after", "?")
        lines.append(f"custodian   expires {exp}  sha256 {cu['cert_sha256']}{_flag(cu.get('cert'))}")
    for area, e in info["areas"].items():
        exp = e.get("cert", {}).get("not_after", "?")
        flag = "  REVOKED" if e["revoked"] else _flag(e.get("cert"))
        lines.append(f"area        {e['spiffe_id']}  expires {exp}  sha256 {e['cert_sha256']}{flag}")
    lines.append(f"token mode  {info.get('token_mode', 'hmac')}")
    if info.get("keysvc"):
        ks = info["keysvc"]
        exp = ks.get("cert", {}).get("not_after", "?")
        lines.append(f"keysvc      expires {exp}  sha256 {ks['cert_sha256']}{_flag(ks.get('cert'))}")
    for k in info.get("oprf_keys", []):
        star = " (primary)" if k["primary"] else ""
        lines.append(f"oprf key    {k['key_id']}  {k['status']}{star}")
    if info.get("token_keys") is not None:
        for k in info["token_keys"]:
            star = " (primary)" if k["primary"] else ""
            lines.append(f"token key   {k['key_id']}  {k['status']}  created {k['created']}{star}")
    elif info.get("token_keys_error"):
        lines.append(f"token keys  unreadable: {info['token_keys_error']}")
    return "\n".join(lines)
