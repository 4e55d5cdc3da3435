"""Helpers for the docker suite (tests/docker): commands, waits, one compose network.

Imported by conftest.py and the test modules (tests/docker is on sys.path).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DOCKER_DIR = REPO / "docker"
SCRIPTS = DOCKER_DIR / "scripts"
COMPOSE_FILE = DOCKER_DIR / "compose.yaml"
STANDIN_OVERRIDE = HERE / "standin.override.yaml"
STANDIN_DIR = HERE / "standin"

IMAGE = os.environ.get("FEDALERT_IMAGE", "fedalert:test")
BASE_IMAGE = os.environ.get("FEDALERT_BASE_IMAGE", "fedalert-base:bookworm-sodium")
AREAS = ("a", "b", "c")
ROLE_SERVICES = ("matcher", "keysvc") + tuple(f"area-{a}" for a in AREAS)
# Roles the real network needs from `fedalert --help` (health: the healthchecks).
REQUIRED_ROLES = ("keys", "matcher", "keysvc", "node", "health")

IN_CI = os.environ.get("CI", "").lower() == "true"
SETUP_TIMEOUT = 900  # engine install + debootstrap + build, on 2 cores
UP_TIMEOUT = 240


def unavailable(reason: str):
    """Fail under CI, skip elsewhere: a docker test that cannot run."""
    if IN_CI:
        pytest.fail(f"docker suite cannot run under CI: {reason}", pytrace=False)
    pytest.skip(reason)


def run(cmd: list[str], *, timeout: float = 120, check: bool = True, env: dict | None = None,
        input: bytes | None = None) -> subprocess.CompletedProcess:
    """Run a command, capture output, bounded in time; on failure show its output."""
    full_env = {**os.environ, **(env or {})}
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, env=full_env, input=input)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"timed out after {timeout}s: {' '.join(map(str, cmd))}") from exc
    if check and proc.returncode != 0:
        raise AssertionError(
            f"exit {proc.returncode}: {' '.join(map(str, cmd))}\n"
            f"--- stdout\n{proc.stdout.decode(errors='replace')[-3000:]}\n"
            f"--- stderr\n{proc.stderr.decode(errors='replace')[-3000:]}"
        )
    return proc


def wait_for(predicate, *, timeout: float, interval: float = 1.0, what: str = "condition"):
    """Poll `predicate` until it returns a truthy value; bounded in time and count."""
    deadline = time.monotonic() + timeout
    last = None
    for _ in range(int(timeout / interval) + 2):
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    raise AssertionError(f"gave up waiting for {what} after {timeout}s (last: {last!r})")


def _compose_cmd() -> list[str]:
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    unavailable("no compose command ('docker compose' or 'docker-compose'); run docker/scripts/install-engine.sh")


class Network:
    """One compose project of docker/compose.yaml (plus optional overrides)."""

    def __init__(self, project: str, overrides: list[Path] = (), env: dict | None = None):
        self.project = project
        self.files = [COMPOSE_FILE, *overrides]
        self.env = {
            "FEDALERT_IMAGE": IMAGE,
            "FEDALERT_PROJECT": project,
            "FEDALERT_MATCHER_PUBLISH": "",  # random 127.0.0.1 port: no clash between runs
            "FEDALERT_COMPOSE_EXTRA": ":".join(str(p) for p in overrides),
            **(env or {}),
        }
        self._compose = _compose_cmd()

    # -- compose and docker
    def compose(self, *args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [*self._compose]
        for f in self.files:
            cmd += ["-f", str(f)]
        return run([*cmd, "-p", self.project, *args], timeout=timeout, check=check, env=self.env)

    def cid(self, service: str) -> str:
        # compose's own labels: much faster than `compose ps -q` (v1 is slow to start)
        out = run(["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={self.project}",
                   "--filter", f"label=com.docker.compose.service={service}"]).stdout.decode().split()
        assert out, f"no container for service {service} in project {self.project}"
        return out[0]

    def inspect(self, service: str) -> dict:
        return json.loads(run(["docker", "inspect", self.cid(service)]).stdout)[0]

    def state(self, service: str) -> str:
        st = self.inspect(service)["State"]
        return st["Health"]["Status"] if st.get("Health") else st["Status"]

    def wait_healthy(self, *services: str, timeout: float = UP_TIMEOUT) -> None:
        for svc in services or ROLE_SERVICES:
            wait_for(lambda: self.state(svc) == "healthy", timeout=timeout, interval=2,
                     what=f"{svc} healthy in {self.project}")

    def exec(self, service: str, *cmd: str, timeout: float = 60, check: bool = True,
             user: str | None = None, input: bytes | None = None) -> subprocess.CompletedProcess:
        opts = ["-i"] if input is not None else []
        if user:
            opts += ["-u", user]
        return run(["docker", "exec", *opts, self.cid(service), *cmd], timeout=timeout, check=check, input=input)

    def logs(self, service: str) -> str:
        return self.compose("logs", "--no-color", service, check=False).stdout.decode(errors="replace")

    def network_name(self, short: str) -> str:
        return f"{self.project}_{short}"

    def volume_name(self, short: str) -> str:
        return f"{self.project}_{short}"

    def volume_files(self, volume: str) -> dict[str, tuple[str, str]]:
        """{name: (octal mode, owner uid)} of the files at the top of a named volume."""
        out = run(["docker", "run", "--rm", "--network", "none", "-v", f"{self.volume_name(volume)}:/v:ro",
                   "--entrypoint", "sh", IMAGE, "-c", "cd /v && stat -c '%n %a %u' * 2>/dev/null || true"]).stdout
        files = {}
        for line in out.decode().splitlines():
            name, mode, uid = line.rsplit(" ", 2)
            files[name] = (mode, uid)
        return files

    def matcher_port(self) -> tuple[str, int]:
        host, _, port = self.compose("port", "matcher", "7443").stdout.decode().strip().rpartition(":")
        return host, int(port)

    # -- area nodes (commands live in docker/scripts/area.sh)
    def area(self, verb: str, area: str, *args: str, timeout: float = 120) -> str:
        proc = run(["bash", str(SCRIPTS / "area.sh"), verb, area, *args], timeout=timeout, env=self.env)
        return proc.stdout.decode()

    def alerts(self, area: str) -> list[dict]:
        return json.loads(self.area("alerts", area) or "[]")

    def up(self) -> None:
        self.compose("up", "-d", "--remove-orphans", timeout=UP_TIMEOUT)
        self.wait_healthy()

    def down(self) -> None:
        self.compose("down", "-v", "--remove-orphans", timeout=120, check=False)


