"""STAND-IN for `fedalert keys init` (test double, not the real ceremony).

Used only by the docker plumbing tests, until the real roles exist, to check
what the docker layer itself promises: the keys job runs the ceremony once,
then each role volume receives exactly its own folder. It writes the file
layout of docs/INTERFACES.md ("Key ceremony output") with placeholder bytes,
secret files 0600. Nothing here is key material.

usage: ceremony.py --out DIR --areas a,b,c
"""

import argparse
import os
from pathlib import Path


def write(path: Path, text: str, secret: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--areas", required=True)
    a = p.parse_args()
    out = Path(a.out)
    write(out / "ca" / "ca.key", "stand-in\n", secret=True)
    write(out / "ca" / "tokens.keyset.json", "{}\n", secret=True)
    for name in ("ca.crt", "directory.json"):
        write(out / "ca" / name, "stand-in\n")
        write(out / "matcher" / name, "stand-in\n")
    write(out / "matcher" / "matcher.crt", "stand-in\n")
    write(out / "matcher" / "matcher.key", "stand-in\n", secret=True)
    for name in ("ca.crt", "directory.json", "keysvc.crt"):
        write(out / "keysvc" / name, "stand-in\n")
    for name in ("keysvc.key", "oprf.keyset.json"):
        write(out / "keysvc" / name, "stand-in\n", secret=True)
    for area in a.areas.split(","):
        d = out / "areas" / area
        for name in ("ca.crt", "node.crt", "directory.json"):
            write(d / name, "stand-in\n")
        for name in ("node.key", "tokens.keyset.json", "sealing.key", "signing.key"):
            write(d / name, "stand-in\n", secret=True)
        write(d / "area-id", area + "\n")


if __name__ == "__main__":
    main()
