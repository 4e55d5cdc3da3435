"""``fedalert node install-keyset``: install a sealed keyset by hand (key rotation)."""

from __future__ import annotations

from pathlib import Path


def register(nsub) -> None:
    k = nsub.add_parser("install-keyset",
                        help="install a sealed token keyset copied from the key custodian (DIR/rotation/<key>/<area>.sealed)")
    k.add_argument("file", type=Path, help="the <area>.sealed file")
    k.add_argument("--keys", type=Path, required=True, help="this area's folder from the key ceremony")
    k.add_argument("--audit", type=Path, help="the node's audit log (to record the installation)")
    k.set_defaults(func=_install)


def _install(args) -> int:
    from fedalert.node.rotation import install_file

    res = install_file(args.keys, args.file)
    if args.audit:
        from fedalert.audit import AuditLog

        AuditLog(args.audit).append("keyset_installed", serial=res.serial, key_id=res.key_id, primary=res.primary,
                                    key_ids=list(res.key_ids), via="by_hand")
    print(f"keyset serial {res.serial} installed for area {res.area}: primary {res.primary}, "
          f"key ids {', '.join(res.key_ids)}")
    print("  a running node picks it up by itself and republishes if the primary changed; no restart needed")
    return 0
