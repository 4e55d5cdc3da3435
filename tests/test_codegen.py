"""Generated stubs must match proto/ exactly (nobody hand-edits them)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_generated_stubs_are_current():
    res = subprocess.run([sys.executable, "-m", "fedalert.codegen", "--check", "--root", str(ROOT)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
