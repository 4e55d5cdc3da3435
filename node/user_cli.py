"""``fedalert node user add|disable|reset|list|code``: the people who work this node.

Managing users needs an administrator's login (``--user ADMIN``), except for
the first account of a node, which must be an administrator. A new or reset
account gets a TOTP secret, shown once at a terminal or written to
``--totp-secret-out`` (0600); its password is asked twice or read from
``--new-password-file``.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from fedalert.errors import UsageError
from fedalert.node._auth_cli import auth_args, login, open_service, write_credentials


def register(nsub: argparse._SubParsersAction, conn) -> None:
    u = nsub.add_parser("user", help="the people who work this node: accounts, roles, TOTP")
    usub = u.add_subparsers(dest="user_cmd", required=True, metavar="ACTION")

    def common(sp, admin_required=True):
        conn(sp, need_keys=False)
        auth_args(sp, required=admin_required)

    a = usub.add_parser("add", help="add an account (the first one of a node must be an admin)")
    a.add_argument("name", help="the user id, e.g. coord-n1 (an id, not a person's name)")
    a.add_argument("--role", action="append", required=True,
                   choices=["coordinator", "approver", "auditor", "admin"], help="repeat for several roles")
    common(a, admin_required=False)
    _new_secret_args(a)
    a.set_defaults(func=_add)

    d = usub.add_parser("disable", help="disable an account and end its sessions")
    d.add_argument("name")
    common(d)
    d.set_defaults(func=_disable)

    r = usub.add_parser("reset", help="new password and TOTP secret; unlocks and re-enables the account")
    r.add_argument("name")
    common(r)
    _new_secret_args(r)
    r.set_defaults(func=_reset)

    ls = usub.add_parser("list", help="list accounts with their roles and state")
    common(ls)
    ls.set_defaults(func=_list)

    c = usub.add_parser("code", help="print the current TOTP code of a secret file (like an authenticator app)")
    c.add_argument("--totp-secret-file", type=Path, required=True)
    c.set_defaults(func=_code)


def _new_secret_args(sp) -> None:
    sp.add_argument("--new-password-file", type=Path, help="the account's password, from this file (0600)")
    sp.add_argument("--totp-secret-out", type=Path, help="write the account's new TOTP secret here (0600)")


def _new_password(args) -> str:
    from fedalert.node._auth_cli import _secret_text

    if args.new_password_file:
        return _secret_text(args.new_password_file, "password")
    if not sys.stdin or not sys.stdin.isatty():
        raise UsageError("give --new-password-file (0600) or run at a terminal to type the new password")
    first = getpass.getpass(f"new password for {args.name}: ")
    if getpass.getpass("again: ") != first:
        raise UsageError("the two passwords differ; nothing was changed")
    return first


def _can_hand_over(args) -> None:
    if args.totp_secret_out is None and not sys.stdout.isatty():
        raise UsageError("give --totp-secret-out FILE: a TOTP secret is shown only on a terminal")


def _add(args) -> int:
    _can_hand_over(args)
    password = _new_password(args)
    with open_service(args) as svc:
        actor = login(svc, args) if args.user else None
        creds = svc.add_user(actor, args.name, args.role, password)
    print(f"added {args.name} ({', '.join(sorted(set(args.role)))})")
    print(write_credentials(creds, args.totp_secret_out))
    return 0


def _disable(args) -> int:
    with open_service(args) as svc:
        svc.disable_user(login(svc, args), args.name)
    print(f"disabled {args.name}; its sessions are ended")
    return 0


def _reset(args) -> int:
    _can_hand_over(args)
    password = _new_password(args)
    with open_service(args) as svc:
        creds = svc.reset_user(login(svc, args), args.name, password)
    print(f"reset {args.name}: new password and TOTP secret; unlocked and enabled")
    print(write_credentials(creds, args.totp_secret_out))
    return 0


def _list(args) -> int:
    with open_service(args) as svc:
        users = svc.list_users(login(svc, args))
    if not users:
        print("no users")
    for u in users:
        state = "disabled" if u.disabled else "LOCKED" if u.locked else "active"
        last = f"{u.last_login_at:%Y-%m-%d %H:%M} UTC" if u.last_login_at else "never"
        print(f"{u.user:<24} {state:<9} {','.join(u.roles):<32} last login {last}")
    return 0


def _code(args) -> int:
    import datetime as _dt

    from fedalert.node._auth_cli import _secret_text
    from fedalert.node.disclosure import totp_code

    print(totp_code(_secret_text(args.totp_secret_file, "TOTP secret"), _dt.datetime.now(_dt.timezone.utc)))
    return 0
