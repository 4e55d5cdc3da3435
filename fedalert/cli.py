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


def build_parser() -> argparse.ArgumentParser:
    from fedalert.keys import cli as keys_cli
    from fedalert.matcher import cli as matcher_cli
    from fedalert.node import cli as node_cli
    from fedalert import demo_cli

    parser = argparse.ArgumentParser(
        prog="fedalert",
        description="Federated cross-area perpetrator alerts: hit / no-hit, then disclosure under protocol.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (repeatable)")
    sub = parser.add_subparsers(dest="role", required=True, metavar="ROLE")
    keys_cli.register(sub)
    matcher_cli.register(sub)
    node_cli.register(sub)
    demo_cli.register(sub)
    for extra in _optional_registrations():
        extra.register(sub)
    return parser


def _optional_registrations():
    """Roles added by later work (disclosure, audit, eval-linkage)."""
    import importlib

    mods = []
    for name in ("fedalert.health_cli", "fedalert.audit_cli", "fedalert.node.disclose_cli", "fedalert.node.eval_cli"):
        try:
            mods.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return mods


def setup_logging(verbosity: int) -> None:
    level = logging.WARNING - 10 * verbosity
    logging.basicConfig(
        level=max(level, logging.DEBUG),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
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
