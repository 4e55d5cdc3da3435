"""The one console script: ``fedalert <role> ...``.

Only this module (and each package's ``cli`` module it calls) reads flags,
files named on the command line and environment variables, and only
:func:`main` calls ``sys.exit``.

Exit codes: 0 success; 1 a fedalert error (message on stderr); 2 usage or
config error; 3 verification failed (audit chain, signature); 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import sys

from fedalert.errors import FedalertError


#: Role -> the module whose ``register`` adds it. Only the named role's module is
#: imported to run a command, so ``fedalert node import`` does not load gRPC and
#: the certificate code (a quarter of a second at every start).
ROLES = {
    "keys": "fedalert.keys.cli",
    "matcher": "fedalert.matcher.cli",
    "node": "fedalert.node.cli",
    "demo": "fedalert.demo_cli",
    "health": "fedalert.health_cli",
    "audit": "fedalert.audit_cli",
    "disclose": "fedalert.node.disclose_cli",
    "eval-linkage": "fedalert.node.eval_cli",
}


def build_parser(role: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or (given a known `role`) only that role's commands."""
    import importlib

    parser = argparse.ArgumentParser(
        prog="fedalert",
        description="Federated cross-area perpetrator alerts: hit / no-hit, then disclosure under protocol.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (repeatable)")
    sub = parser.add_subparsers(dest="role", required=True, metavar="ROLE")
    for name, module in ROLES.items():
        if role in ROLES and name != role:
            continue
        importlib.import_module(module).register(sub)
    return parser


def _role(argv: list[str]) -> str | None:
    """The role named on the command line: the first argument that is not an option."""
    return next((a for a in argv if not a.startswith("-")), None)


def setup_logging(verbosity: int) -> None:
    level = logging.WARNING - 10 * verbosity
    logging.basicConfig(
        level=max(level, logging.DEBUG),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_role(argv))
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    try:
        code = args.func(args)
    except FedalertError as exc:
        print(f"fedalert: error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(code or 0)
