"""The docker layer itself, with STAND-IN role processes (test doubles).

tests/docker/standin.override.yaml replaces only the role commands and health
checks (tests/docker/standin/*.py stand in for `fedalert keys init` and the
role servers) so that what docker/ promises is tested before, and apart from,
the real roles: the keys job and the per-role key volumes, the networks, the
127.0.0.1 publication, container hardening, and state surviving restarts.
"""

from __future__ import annotations

import socket

from _dockernet import AREAS, ROLE_SERVICES, run

SECRET = "600"


def test_keys_job_ran_once_and_exited_cleanly(standin_net):
    st = standin_net.inspect("keys")["State"]
    assert st["Status"] == "exited" and st["ExitCode"] == 0
    assert "running the key ceremony" in standin_net.logs("keys")


def test_matcher_volume_holds_only_the_matcher_folder(standin_net):
    files = standin_net.volume_files("matcher-keys")
    assert set(files) == {"ca.crt", "directory.json", "matcher.crt", "matcher.key"}
    assert "tokens.keyset.json" not in files and "ca.key" not in files
    assert files["matcher.key"] == (SECRET, "10001")


def test_keysvc_volume_holds_only_the_key_service_folder_on_the_internal_network(standin_net):
    files = standin_net.volume_files("keysvc-keys")
    assert set(files) == {"ca.crt", "directory.json", "keysvc.crt", "keysvc.key", "oprf.keyset.json"}
    assert files["keysvc.key"] == files["oprf.keyset.json"] == (SECRET, "10001")
    fed = standin_net.network_name("federation")
    assert set(standin_net.inspect("keysvc")["NetworkSettings"]["Networks"]) == {fed}


def test_each_area_volume_holds_only_its_own_folder(standin_net):
    for area in AREAS:
        files = standin_net.volume_files(f"area-{area}-keys")
        assert set(files) == {"area-id", "ca.crt", "directory.json", "node.crt", "node.key",
                              "tokens.keyset.json", "sealing.key", "signing.key"}
        for secret in ("node.key", "tokens.keyset.json", "sealing.key", "signing.key"):
            assert files[secret] == (SECRET, "10001"), (area, secret, files[secret])
        got = standin_net.exec(f"area-{area}", "cat", "/keys/area-id").stdout.decode().strip()
        assert got == area


def test_ceremony_volume_is_mounted_by_the_keys_job_only(standin_net):
    ceremony = standin_net.volume_name("ceremony")
    for svc in ROLE_SERVICES:
        mounts = standin_net.inspect(svc)["Mounts"]
        assert ceremony not in {m.get("Name") for m in mounts}, svc
        keys = [m for m in mounts if m["Destination"] == "/keys"]
        assert len(keys) == 1 and keys[0]["RW"] is False, f"{svc}: /keys must be read-only"
    assert ceremony in {m.get("Name") for m in standin_net.inspect("keys")["Mounts"]}


def test_areas_sit_only_on_the_internal_network_and_the_matcher_on_both(standin_net):
    fed, edge = standin_net.network_name("federation"), standin_net.network_name("edge")
    nets = {n["Name"]: n for n in (run(["docker", "network", "inspect", fed, edge], check=True) and
                                    __import__("json").loads(run(["docker", "network", "inspect", fed, edge]).stdout))}
    assert nets[fed]["Internal"] is True
    assert nets[edge]["Internal"] is False
    for area in AREAS:
        assert set(standin_net.inspect(f"area-{area}")["NetworkSettings"]["Networks"]) == {fed}
    assert set(standin_net.inspect("matcher")["NetworkSettings"]["Networks"]) == {fed, edge}
    assert standin_net.inspect("keys")["HostConfig"]["NetworkMode"] == "none"


def test_areas_reach_the_matcher_by_name(standin_net):
    for area in AREAS:
        standin_net.exec(f"area-{area}", "python3", "/standin/role.py", "probe", "matcher:7443")


def test_matcher_port_is_published_on_loopback_only(standin_net):
    bindings = standin_net.inspect("matcher")["HostConfig"]["PortBindings"]
    assert set(bindings) == {"7443/tcp"}
    assert [b["HostIp"] for b in bindings["7443/tcp"]] == ["127.0.0.1"]
    host, port = standin_net.matcher_port()
    assert host == "127.0.0.1"
    with socket.create_connection((host, port), timeout=5) as s:
        s.settimeout(5)
        listing = s.recv(4096).decode().split()
    # What the stand-in matcher sees in its /keys: the matcher folder, no token keyset.
    assert listing == ["ca.crt", "directory.json", "matcher.crt", "matcher.key"]


def test_role_containers_are_hardened(standin_net):
    for svc in ROLE_SERVICES:
        info = standin_net.inspect(svc)
        host = info["HostConfig"]
        assert host["ReadonlyRootfs"] is True, svc
        assert host["CapDrop"] == ["ALL"] and not host.get("CapAdd"), svc
        assert "no-new-privileges:true" in host["SecurityOpt"], svc
        assert standin_net.exec(svc, "id", "-u").stdout.decode().strip() == "10001", svc
        assert standin_net.exec(svc, "touch", "/etc/x", check=False).returncode != 0, svc


def test_state_and_keys_survive_restarting_every_container(standin_net):
    before_ca = standin_net.exec("area-a", "sha256sum", "/keys/ca.crt").stdout
    for svc in ROLE_SERVICES:
        standin_net.exec(svc, "sh", "-c", f"echo {svc} > /var/lib/fedalert/marker")
    standin_net.compose("stop", timeout=120)
    standin_net.compose("up", "-d", timeout=240)
    standin_net.wait_healthy()
    for svc in ROLE_SERVICES:
        assert standin_net.exec(svc, "cat", "/var/lib/fedalert/marker").stdout.decode().strip() == svc
    # The keys job ran again but did not redo the ceremony: same CA, same files.
    assert "ceremony already done" in standin_net.logs("keys")
    assert standin_net.exec("area-a", "sha256sum", "/keys/ca.crt").stdout == before_ca


def test_every_volume_is_a_named_volume_of_the_project(standin_net):
    """No anonymous volumes: `down` without -v must leave nothing nameless behind."""
    for svc in ("keys", *ROLE_SERVICES):
        for m in standin_net.inspect(svc)["Mounts"]:
            if m["Type"] == "volume":
                assert m["Name"].startswith(standin_net.project + "_"), (svc, m["Destination"], m["Name"])
