"""Docker test suite: real engine, real image, real compose networks.

Everything under tests/docker/ is marked ``docker``. The suite runs when CI=true,
when FEDALERT_DOCKER=1, or when pytest is asked for it with ``-m docker``;
otherwise each test is skipped with the reason. With CI=true a docker test that
cannot run (no engine, no root to install one, build failed, roles missing)
FAILS instead of skipping: CI must never go green on a suite it did not run.

Fixtures, cheapest first (all bounded in time):
  docker_engine    docker/scripts/install-engine.sh (installs + starts dockerd as root)
  fedalert_image   docker/scripts/build-image.sh (host wheels, debootstrap base, build)
  standin_net      module scope: the compose network with STAND-IN roles
                   (tests/docker/standin*, test doubles) for the docker plumbing
  federation       session scope: the compose network with the real roles

Each network gets a unique compose project name and is removed with
``down -v`` at the end. Traffic goes only to loopback and to the compose
networks these fixtures create.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest

from _dockernet import (BASE_IMAGE, HERE, IMAGE, IN_CI, ROLE_SERVICES, REQUIRED_ROLES, SCRIPTS, SETUP_TIMEOUT,
                        STANDIN_DIR, STANDIN_OVERRIDE, Network, run, unavailable)


def _wanted(config) -> bool:
    if IN_CI or os.environ.get("FEDALERT_DOCKER") == "1":
        return True
    return "docker" in (config.getoption("-m") or "")


_MODULE_ORDER = ("test_docker_image", "test_docker_plumbing", "test_docker_faults")


def pytest_collection_modifyitems(config, items):
    # Cheapest first, and the real network (a session fixture) last, so that
    # the stand-in network is gone before it starts.
    def rank(item):
        name = Path(str(item.fspath)).stem
        return _MODULE_ORDER.index(name) if name in _MODULE_ORDER else -1
    items.sort(key=rank)  # stable: other tests keep their order, ahead of these
    wanted = _wanted(config)
    skip = pytest.mark.skip(reason="docker suite: set FEDALERT_DOCKER=1 or run `pytest -m docker` (CI runs it)")
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.docker)
            if not wanted:
                item.add_marker(skip)


def _unique(prefix: str) -> str:
    return f"{prefix}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="session")
def docker_engine() -> None:
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0 and os.geteuid() != 0:
        unavailable("no Docker engine answers and only root can install/start one (docker/scripts/install-engine.sh)")
    try:
        run(["bash", str(SCRIPTS / "install-engine.sh")], timeout=SETUP_TIMEOUT)
    except AssertionError as exc:
        unavailable(f"could not install or start the Docker engine: {exc}")


@pytest.fixture(scope="session")
def fedalert_image(docker_engine) -> str:
    """The fedalert image built from this checkout (wheels on the host, registry-free base)."""
    try:
        run(["bash", str(SCRIPTS / "build-image.sh")], timeout=SETUP_TIMEOUT,
            env={"FEDALERT_IMAGE": IMAGE, "FEDALERT_BASE_IMAGE": BASE_IMAGE})
    except AssertionError as exc:
        unavailable(f"could not build the image: {exc}")
    return IMAGE


@pytest.fixture(scope="session")
def roles_ready(fedalert_image) -> None:
    """The real roles this suite drives are in the image (else: unavailable)."""
    proc = run(["docker", "run", "--rm", "--network", "none", IMAGE, "--help"], check=False, timeout=60)
    text = proc.stdout.decode(errors="replace")
    missing = [r for r in REQUIRED_ROLES if f"\n    {r} " not in text and f"\n    {r}\n" not in text]
    if proc.returncode != 0 or missing:
        unavailable(f"the image's `fedalert --help` lacks role(s) {missing or '?'} "
                    f"(exit {proc.returncode}): the real-network tests need them")


@pytest.fixture(scope="module")
def standin_net(fedalert_image):
    """Compose network with STAND-IN role processes (test doubles) for the plumbing tests."""
    net = Network(_unique("fedalert-standin"), overrides=[STANDIN_OVERRIDE],
                  env={"FEDALERT_STANDIN_DIR": str(STANDIN_DIR)})
    try:
        net.up()
        yield net
    finally:
        net.down()


@pytest.fixture(scope="session")
def federation(roles_ready):
    """The real test network: keys job, matcher and areas a, b, c, all healthy."""
    net = Network(_unique("fedalert-test"))
    try:
        try:
            net.up()
        except AssertionError as exc:
            logs = "\n".join(net.logs(s)[-2000:] for s in ("keys", *ROLE_SERVICES))
            pytest.fail(f"the real network did not come up healthy: {exc}\n{logs}", pytrace=False)
        yield net
    finally:
        net.down()
