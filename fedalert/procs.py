"""Start fedalert roles as real subprocesses on loopback (demo, tests, bench)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from fedalert.errors import FedalertError


class ProcessError(FedalertError):
    """A fedalert subprocess failed to start or exited with an error."""


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    port: int
    log_path: Path

    def stop(self, timeout: float = 15.0) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        return self.popen.returncode

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(5)


def fedalert_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "fedalert", *args]


def start(name: str, args: list[str], port_file: Path, log_path: Path, timeout: float = 30.0,
          env: dict | None = None) -> Proc:
    """Start `fedalert ARGS --port-file PORT_FILE` and wait until it reports its port."""
    port_file = Path(port_file)
    if port_file.exists():
        port_file.unlink()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "ab")
    popen = subprocess.Popen(fedalert_cmd(*args, "--port-file", str(port_file)), stdout=log, stderr=log,
                             stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})})
    log.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise ProcessError(f"{name} exited with code {popen.returncode}; see {log_path}")
        if port_file.exists():
            text = port_file.read_text().strip()
            if text:
                return Proc(name, popen, int(text), log_path)
        time.sleep(0.05)
    popen.kill()
    raise ProcessError(f"{name} did not start within {timeout:.0f}s; see {log_path}")


def run(args: list[str], log_path: Path, timeout: float = 120.0) -> subprocess.CompletedProcess:
    """Run a one-shot fedalert command; raise with its output on failure."""
    res = subprocess.run(fedalert_cmd(*args), capture_output=True, text=True, timeout=timeout,
                         stdin=subprocess.DEVNULL)
    with open(log_path, "a", encoding="utf-8") as fh:
        fh.write(f"$ fedalert {' '.join(args)}\n{res.stdout}{res.stderr}")
    if res.returncode != 0:
        raise ProcessError(f"fedalert {' '.join(args[:2])} failed ({res.returncode}): {res.stderr.strip()[-500:]}")
    return res
