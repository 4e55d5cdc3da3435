"""``fedalert keys ...``: the key ceremony commands (run by the key custodian)."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from fedalert.keys import certs
from fedalert.keys.ceremony import add_area, init_federation, renew_area, revoke_area
from fedalert.keys.directory import Directory
from fedalert.keys.summary import describe_federation, format_federation


def _split_areas(text: str) -> list[str]:
    return [a.strip() for a in text.split(",") if a.strip()]


def _add_passphrase_options(q: argparse.ArgumentParser) -> None:
    g = q.add_mutually_exclusive_group()
    g.add_argument("--ca-passphrase-file", type=Path, metavar="PATH",
                   help="file (mode 0600) holding the CA key passphrase on its first line")
    g.add_argument("--ca-passphrase-env", metavar="VAR", help="environment variable holding the CA key passphrase")


def _passphrase(args: argparse.Namespace) -> bytes | None:
    from fedalert.keys.errors import KeysUsageError
    from fedalert.secretfile import read_secret

    if getattr(args, "ca_passphrase_file", None):
        lines = read_secret(args.ca_passphrase_file).splitlines()
        value = lines[0] if lines else b""
    elif getattr(args, "ca_passphrase_env", None):
        text = os.environ.get(args.ca_passphrase_env)
        if text is None:
            raise KeysUsageError(f"environment variable {args.ca_passphrase_env} is not set")
        value = text.encode("utf-8")
    else:
        return None
    if not value:
        raise KeysUsageError("the CA passphrase is empty")
    return value


def _add_send_options(q: argparse.ArgumentParser) -> None:
    q.add_argument("--send", metavar="MATCHER", help="post the sealed keysets to the matcher at host:port")
    q.add_argument("--matcher-name", default=certs.MATCHER_DNS_NAME, help="TLS name on the matcher certificate")


def _send(args: argparse.Namespace, paths: list[Path]) -> None:
    for p in paths:
        print(f"  sealed: {p}")
    if not args.send:
        print("  hand each area its <area>.sealed file (fedalert node install-keyset), or post them with --send")
        return
    from fedalert.keys.send import send_packages

    res = send_packages(args.out, paths, args.send, server_name=args.matcher_name)
    print(f"  posted {res.sent} sealed keyset(s) to the matcher at {args.send} ({res.duplicates} already there); "
          "the nodes fetch, install and republish by themselves")


def register(subparsers) -> None:
    p = subparsers.add_parser("keys", help="key ceremony: CA, certificates, token keyset, directory",
                              description="Key ceremony for the federation key custodian. Never run it on the matcher host.")
    sub = p.add_subparsers(dest="keys_command", required=True, metavar="COMMAND")

    q = sub.add_parser("init", help="create a new federation's keys and certificates")
    q.add_argument("--federation", required=True, help="federation name (SPIFFE trust domain), e.g. demo")
    q.add_argument("--areas", required=True, help="comma-separated area ids, e.g. north,south,east")
    q.add_argument("--out", required=True, type=Path, help="output folder (must not exist or be empty)")
    q.add_argument("--matcher-host", action="append", default=[], metavar="HOST",
                   help="extra DNS name or IP for the matcher certificate (repeatable)")
    q.add_argument("--days", type=int, default=certs.LEAF_DAYS, help="member certificate validity (default %(default)s)")
    q.add_argument("--ca-days", type=int, default=certs.CA_DAYS, help="CA validity (default %(default)s)")
    _add_passphrase_options(q)
    q.set_defaults(func=_cmd_init)

    q = sub.add_parser("add-area", help="add one area and re-sign the directory")
    q.add_argument("--out", required=True, type=Path, help="the ceremony output folder")
    q.add_argument("--area", required=True, help="new area id")
    q.add_argument("--days", type=int, default=certs.LEAF_DAYS, help="certificate validity (default %(default)s)")
    _add_passphrase_options(q)
    q.set_defaults(func=_cmd_add_area)

    q = sub.add_parser("renew", help="re-issue an area's TLS certificate (same id and sealing/signing keys)")
    q.add_argument("--out", required=True, type=Path, help="the ceremony output folder")
    q.add_argument("--area", required=True, help="area id to renew")
    q.add_argument("--days", type=int, default=certs.LEAF_DAYS, help="certificate validity (default %(default)s)")
    _add_passphrase_options(q)
    q.set_defaults(func=_cmd_renew)

    q = sub.add_parser("revoke", help="revoke an area and re-sign the directory")
    q.add_argument("--out", required=True, type=Path, help="the ceremony output folder")
    q.add_argument("--area", required=True, help="area id to revoke")
    q.add_argument("--reason", required=True, help="one-line reason, recorded in the directory")
    _add_passphrase_options(q)
    q.set_defaults(func=_cmd_revoke)

    q = sub.add_parser("token-key", help="rotate the token key step by step: add, then promote, then disable")
    q.add_argument("action", choices=["add", "promote", "disable"])
    q.add_argument("key_id", nargs="?", help="key id (for promote and disable)")
    q.add_argument("--out", required=True, type=Path, help="the ceremony output folder")
    _add_send_options(q)
    q.set_defaults(func=_cmd_token_key)

    q = sub.add_parser("rotate", help="new token key id, primary at once; keyset sealed to every active area")
    q.add_argument("--out", required=True, type=Path, help="the ceremony output folder")
    _add_send_options(q)
    q.set_defaults(func=_cmd_rotate)

    q = sub.add_parser("send-keysets", help="post the sealed keysets of one key id to the matcher (again)")
    q.add_argument("key_id", help="the key id folder under DIR/rotation/")
    q.add_argument("--out", required=True, type=Path, help="the ceremony output folder")
    q.add_argument("--send", required=True, metavar="MATCHER", help="matcher address host:port")
    q.add_argument("--matcher-name", default=certs.MATCHER_DNS_NAME, help="TLS name on the matcher certificate")
    q.set_defaults(func=_cmd_send)

    q = sub.add_parser("add-custodian", help="give the custodian its identity (client cert + keyset signing key)")
    q.add_argument("--out", required=True, type=Path, help="the ceremony output folder")
    q.add_argument("--replace", action="store_true", help="re-issue an existing custodian identity")
    q.add_argument("--days", type=int, default=certs.LEAF_DAYS, help="certificate validity (default %(default)s)")
    _add_passphrase_options(q)
    q.set_defaults(func=_cmd_add_custodian)

    q = sub.add_parser("renew-matcher", help="re-issue the matcher's TLS certificate; nodes pin the new one")
    q.add_argument("--out", required=True, type=Path, help="the ceremony output folder")
    q.add_argument("--matcher-host", action="append", default=[], metavar="HOST")
    q.add_argument("--days", type=int, default=certs.LEAF_DAYS, help="certificate validity (default %(default)s)")
    q.add_argument("--revoke-reason", help="also list the old certificate as revoked, with this one-line reason")
    _add_passphrase_options(q)
    q.set_defaults(func=_cmd_renew_matcher)

    q = sub.add_parser("show", help="list members, certificate expiries and key ids (never secrets)")
    q.add_argument("--out", required=True, type=Path, help="the ceremony output folder")
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=_cmd_show)

    q = sub.add_parser("verify-directory", help="verify a directory.json against the federation CA")
    q.add_argument("path", type=Path, help="directory.json")
    q.add_argument("--ca", required=True, type=Path, help="federation ca.crt")
    q.set_defaults(func=_cmd_verify)


def _cmd_init(args: argparse.Namespace) -> int:
    areas = _split_areas(args.areas)
    init_federation(args.out, args.federation, areas, args.matcher_host, days=args.days, ca_days=args.ca_days,
                    ca_passphrase=_passphrase(args))
    print(f"federation {args.federation}: CA, matcher and {len(areas)} area(s) written to {args.out}")
    print(f"  {args.out}/ca        key custodian only (CA key, token keyset)")
    print(f"  {args.out}/matcher   give to the matcher operator (holds no token key)")
    for a in areas:
        print(f"  {args.out}/areas/{a}  give to area {a}'s node operator")
    return 0


def _cmd_add_area(args: argparse.Namespace) -> int:
    add_area(args.out, args.area, days=args.days, ca_passphrase=_passphrase(args))
    d = Directory.load(args.out / "ca" / "directory.json", args.out / "ca" / "ca.crt")
    print(f"area {args.area} added; directory version {d.version} written to every role folder under {args.out}")
    print("  send the new directory.json to the matcher and every area")
    return 0


def _cmd_renew(args: argparse.Namespace) -> int:
    renew_area(args.out, args.area, days=args.days, ca_passphrase=_passphrase(args))
    d = Directory.load(args.out / "ca" / "directory.json", args.out / "ca" / "ca.crt")
    print(f"area {args.area} certificate renewed; directory version {d.version} written under {args.out}")
    print(f"  send areas/{args.area}/node.crt and node.key to that area, and the new directory.json to everyone")
    return 0


def _cmd_revoke(args: argparse.Namespace) -> int:
    revoke_area(args.out, args.area, args.reason, ca_passphrase=_passphrase(args))
    d = Directory.load(args.out / "ca" / "directory.json", args.out / "ca" / "ca.crt")
    print(f"area {args.area} revoked; directory version {d.version} written under {args.out}")
    print("  send the new directory.json to the matcher and every area")
    return 0


def _cmd_token_key(args: argparse.Namespace) -> int:
    from fedalert.keys import rotation
    from fedalert.keys.errors import KeysUsageError

    from fedalert.keys.keydelivery import package_path

    if args.action == "add":
        if args.key_id:
            raise KeysUsageError("'token-key add' takes no key id; a fresh one is drawn")
        key_id = rotation.add_token_key(args.out, seal=True)
        print(f"token key {key_id} added (enabled, not primary) to ca/ and every areas/<id>/ folder")
        print(f"  then run: fedalert keys token-key promote {key_id} --out {args.out}")
    else:
        if not args.key_id:
            raise KeysUsageError(f"'token-key {args.action}' needs the key id (see 'fedalert keys show')")
        key_id = args.key_id
        if args.action == "promote":
            rotation.promote_token_key(args.out, key_id, seal=True)
            print(f"token key {key_id} is now primary; the nodes republish under it once they install the keyset")
        else:
            rotation.disable_token_key(args.out, key_id, seal=True)
            print(f"token key {key_id} disabled")
    _send(args, sorted(package_path(args.out, key_id, "x").parent.glob("*.sealed")))
    return 0


def _cmd_rotate(args: argparse.Namespace) -> int:
    from fedalert.keys import rotation

    key_id, paths = rotation.rotate(args.out)
    print(f"token key {key_id} added and made primary; keyset sealed to {len(paths)} area(s)")
    _send(args, paths)
    print(f"  after the grace period: fedalert matcher retire-key <old key id> (on the matcher), then "
          f"fedalert keys token-key disable <old key id> --out {args.out}")
    return 0


def _cmd_send(args: argparse.Namespace) -> int:
    from fedalert.keys.errors import KeysUsageError
    from fedalert.keys.keydelivery import package_path

    paths = sorted(package_path(args.out, args.key_id, "x").parent.glob("*.sealed"))
    if not paths:
        raise KeysUsageError(f"no sealed keysets under {args.out}/rotation/{args.key_id}/")
    _send(args, paths)
    return 0


def _cmd_add_custodian(args: argparse.Namespace) -> int:
    from fedalert.keys.custody import add_custodian

    add_custodian(args.out, days=args.days, replace=args.replace, ca_passphrase=_passphrase(args))
    print(f"custodian identity written to {args.out}/ca (custodian.crt, custodian.key, custodian-signing.key)")
    print("  send the new directory.json to the matcher and every area")
    return 0


def _cmd_renew_matcher(args: argparse.Namespace) -> int:
    from fedalert.keys.custody import renew_matcher

    renew_matcher(args.out, hosts=args.matcher_host, days=args.days, revoke_reason=args.revoke_reason,
                  ca_passphrase=_passphrase(args))
    print(f"matcher certificate renewed under {args.out}/matcher; send matcher.crt and matcher.key to the matcher "
          "operator and the new directory.json to everyone (nodes refuse the old certificate once they have it)")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    info = describe_federation(args.out)
    print(json.dumps(info, indent=2) if args.json else format_federation(info))
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    d = Directory.load(args.path, args.ca)
    revoked = ", ".join(r["area"] for r in d.revoked) or "none"
    print(f"directory OK: federation {d.federation}, version {d.version}, issued {d.issued_at}")
    print(f"  areas: {', '.join(d.areas) or 'none'}; revoked: {revoked}")
    return 0
