"""The image and its registry-free base: what docker/Dockerfile promises."""

from __future__ import annotations

import json

from _dockernet import BASE_IMAGE, run


def _inspect(image: str) -> dict:
    return json.loads(run(["docker", "image", "inspect", image]).stdout)[0]


def test_base_image_has_python_venv_and_ca_certificates(fedalert_image):
    out = run(["docker", "run", "--rm", "--network", "none", BASE_IMAGE, "sh", "-c",
               "python3 -c 'import ensurepip, venv, ssl; print(\"ok\")' && test -s /etc/ssl/certs/ca-certificates.crt"
               " && echo certs"]).stdout.decode()
    assert out.split() == ["ok", "certs"]


def test_base_image_is_trimmed(fedalert_image):
    out = run(["docker", "run", "--rm", "--network", "none", BASE_IMAGE, "sh", "-c",
               "ls /var/lib/apt/lists /var/cache/apt/archives /usr/share/doc | grep -c . || true"]).stdout
    # Only the directory headers printed by ls (and apt's empty partial/ dir, lock) remain.
    assert int(out.decode().strip() or 0) <= 8


def test_image_runs_as_non_root_with_state_volume_and_role_entrypoint(fedalert_image):
    cfg = _inspect(fedalert_image)["Config"]
    assert cfg["Entrypoint"] == ["fedalert"]
    assert cfg["User"] == "fedalert"
    assert "/var/lib/fedalert" in (cfg.get("Volumes") or {})
    ids = run(["docker", "run", "--rm", "--network", "none", "--entrypoint", "id", fedalert_image]).stdout.decode()
    assert ids.startswith("uid=10001(fedalert) gid=10001(fedalert)")


def test_image_has_fedalert_installed_offline_with_no_host_pip_or_tls_settings(fedalert_image):
    """Installed from wheels with --no-index: no pip config, CA bundle or env of the build host inside."""
    script = (
        "import fedalert, grpc, cryptography, sqlite_utils, os, json, sys;"
        "print(json.dumps({'exe': sys.executable,"
        " 'env': sorted(k for k in os.environ if k.startswith(('PIP_', 'REQUESTS_', 'SSL_', 'CURL_')))}))"
    )
    out = json.loads(run(["docker", "run", "--rm", "--network", "none", "--entrypoint", "python3",
                          fedalert_image, "-c", script]).stdout)
    assert out["exe"] == "/opt/fedalert/bin/python3"
    assert out["env"] == []
    conf = run(["docker", "run", "--rm", "--network", "none", "--entrypoint", "sh", fedalert_image, "-c",
                "ls /etc/pip.conf /etc/xdg/pip /opt/fedalert/pip.conf $HOME/.config/pip 2>/dev/null; "
                "/opt/fedalert/bin/pip config list"]).stdout.decode()
    assert conf.strip() == ""


def test_image_runs_fedalert_help(fedalert_image):
    proc = run(["docker", "run", "--rm", "--network", "none", fedalert_image, "--help"], check=False)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    text = proc.stdout.decode()
    for role in ("keys", "matcher", "node"):
        assert f"\n    {role} " in text, f"role {role} missing from `fedalert --help`"
