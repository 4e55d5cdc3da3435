"""The one codegen script: proto/ -> fedalert/v1/*_pb2.py, *_pb2.pyi, *_pb2_grpc.py.

Configured by ``[tool.fedalert.codegen]`` in pyproject.toml. Run from the
repository root::

    python -m fedalert.codegen          # regenerate
    python -m fedalert.codegen --check  # exit 1 if the committed stubs are stale

Nobody hand-edits the generated files; tests/test_codegen.py fails on a diff.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
import tomllib
from pathlib import Path


def _config(root: Path) -> dict:
    with open(root / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["tool"]["fedalert"]["codegen"]


def generate(root: Path, out_root: Path) -> list[Path]:
    """Run protoc (from grpcio-tools) for every configured proto into out_root."""
    from grpc_tools import protoc  # dev dependency, imported only here
    import grpc_tools

    cfg = _config(root)
    proto_root = root / cfg["proto_root"]
    include = Path(grpc_tools.__file__).parent / "_proto"
    written: list[Path] = []
    for rel in cfg["protos"]:
        args = [
            "protoc",
            f"-I{proto_root}",
            f"-I{include}",
            f"--python_out={out_root}",
            f"--pyi_out={out_root}",
            f"--grpc_python_out={out_root}",
            str(proto_root / rel),
        ]
        if protoc.main(args) != 0:
            raise SystemExit(f"protoc failed for {rel}")
        stem = rel[: -len(".proto")]
        written += [out_root / f"{stem}{s}" for s in ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")]
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if committed stubs differ")
    parser.add_argument("--root", default=".", help="repository root (default: .)")
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    out_root = root / _config(root)["out_root"]
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(root, Path(tmp))
        stale = []
        for path in fresh:
            target = out_root / path.relative_to(tmp)
            if args.check:
                if not target.exists() or not filecmp.cmp(path, target, shallow=False):
                    stale.append(str(target.relative_to(root)))
            else:
                shutil.copyfile(path, target)
    if stale:
        print("stale generated stubs (run: python -m fedalert.codegen):", *stale, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
