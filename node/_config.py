"""The node's settings: flags over environment over the ``[node]`` table of ``--config``.

Only the command-line modules read them (a library function takes explicit
arguments). Paths in a config file are relative to the file.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from fedalert.errors import ConfigError

_CONFIG_KEYS = {"keys": "keys_dir", "db": "db", "matcher": "matcher", "listen": "listen", "audit": "audit",
                "matcher_name": "matcher_name", "protocol": "protocol", "overlay": "overlay",
                "keysvc": "keysvc", "keysvc_name": "keysvc_name"}
_PATH_KEYS = ("keys", "db", "audit", "protocol", "overlay")
#: Settings that may also come from the environment (flags over environment over --config).
_ENV_KEYS = {"audit": "FEDALERT_NODE_AUDIT"}


def protocol_args(sp) -> None:
    """--protocol/--overlay: the information sharing protocol files (also [node] protocol, overlay)."""
    sp.add_argument("--protocol", type=Path,
                    help="national protocol TOML (default: the one shipped with fedalert)")
    sp.add_argument("--overlay", type=Path, help="this area's protocol overlay TOML (partners and sign-offs)")


def settings(args) -> dict:
    cfg: dict = {}
    if getattr(args, "config", None):
        try:
            with open(args.config, "rb") as fh:
                raw = tomllib.load(fh).get("node", {})
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read config {args.config}: {exc}") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"{args.config}: 'node' must be a table ([node])")
        unknown = set(raw) - set(_CONFIG_KEYS)
        if unknown:
            raise ConfigError(f"{args.config}: unknown key(s) in [node]: {', '.join(sorted(unknown))}")
        base = Path(args.config).parent
        for k, v in raw.items():
            if not isinstance(v, str) or not v.strip() or "\x00" in v or len(v) > 4096:
                raise ConfigError(f"{args.config}: node.{k} must be a non-empty string (a path or host:port)")
            cfg[_CONFIG_KEYS[k]] = (base / v) if k in _PATH_KEYS else v
    for key, var in _ENV_KEYS.items():
        val = os.environ.get(var, "")
        if val.strip():
            cfg[key] = Path(val)
    for flag, key in _CONFIG_KEYS.items():
        val = getattr(args, key if hasattr(args, key) else flag, None)
        if val is not None:
            cfg[key] = val
    return cfg


def require(cfg: dict, *keys: str) -> None:
    missing = [k for k in keys if not cfg.get(k)]
    if missing:
        flags = ", ".join("--" + {"keys_dir": "keys"}.get(k, k).replace("_", "-") for k in missing)
        raise ConfigError(f"missing {flags} (or set them in --config)")
