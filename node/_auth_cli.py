"""Logging in at the command line: ``--user NAME`` with a prompted password and TOTP code.

A person types the password and the code from their authenticator app. A
script, the demo and the tests give ``--password-file`` and
``--totp-secret-file``: files readable by their owner only (0600). The
secret file stands in for the authenticator app: whoever holds it can make
every code, so the service checks the secret itself (a code can be used only
once per 30-second step, which a script that runs several commands would
trip over). The audit log records which second factor each login used.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

from fedalert.errors import UsageError


def open_service(args, *, keys: bool = False, matcher: bool = False):
    """The disclosure service over this node's database, from flags, environment and --config."""
    from fedalert.node._config import require as _require, settings as _settings
    from fedalert.node.disclosure import DisclosureService, ServiceConfig

    cfg = _settings(args)
    _require(cfg, "db")
    if keys:
        _require(cfg, "keys_dir")
    if matcher:
        _require(cfg, "keys_dir", "matcher")
    return DisclosureService(ServiceConfig(
        db=Path(cfg["db"]), audit=cfg.get("audit"), audit_mirror=getattr(args, "audit_mirror", None),
        protocol=cfg.get("protocol"), overlay=cfg.get("overlay"), keys_dir=cfg.get("keys_dir"),
        matcher=cfg.get("matcher"), matcher_name=cfg.get("matcher_name")))


def auth_args(sp, required: bool = True) -> None:
    sp.add_argument("--user", required=required, help="your user id on this node; you are asked for your "
                                                       "password and TOTP code")
    sp.add_argument("--password-file", type=Path, help="read the password from this file (0600; for scripts)")
    sp.add_argument("--totp-secret-file", type=Path,
                    help="make the TOTP code from the secret in this file (0600; for scripts)")


def _secret_text(path: Path, what: str) -> str:
    from fedalert.keys import read_secret

    text = read_secret(Path(path)).decode("utf-8", "replace").strip("\r\n")
    if not text:
        raise UsageError(f"{what} file {path} is empty")
    return text


def _ask(prompt: str) -> str:
    if not sys.stdin or not sys.stdin.isatty():
        raise UsageError("no terminal to ask for the password and code: give --password-file and "
                         "--totp-secret-file (0600 files)")
    return getpass.getpass(prompt)


def login(svc, args):
    """Log in as ``--user``; returns the principal for the service's calls."""
    user = args.user
    password = (_secret_text(args.password_file, "password") if args.password_file
                else _ask(f"password for {user}: "))
    if not args.totp_secret_file:
        return svc.login(user, password, _ask("TOTP code: ").strip())[1]
    secret = _secret_text(args.totp_secret_file, "TOTP secret")
    return svc.login(user, password, totp_secret=secret)[1]


def write_credentials(creds, out: Path | None) -> str:
    """Hand a new TOTP secret to its person: into *out* (0600) or, at a terminal, on screen once."""
    from fedalert.keys import write_secret

    if out is not None:
        write_secret(Path(out), (creds.totp_secret + "\n").encode())
        return f"TOTP secret for {creds.user} written to {out} (0600)"
    if not sys.stdout.isatty():
        raise UsageError("not showing a TOTP secret on output that is not a terminal: give --totp-secret-out FILE")
    return (f"TOTP secret for {creds.user} (shown once; add it to an authenticator app):\n"
            f"  {creds.totp_secret}\n  {creds.provisioning_uri}")
