"""The prepared GPU benchmark (benchmarks/gpu.py) runs every step on a CPU at small sizes."""
import json
from pathlib import Path
import subprocess
import sys

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT.parent / "shared" / "bench"


@pytest.mark.skipif(not (BENCH / "workload.py").is_file(), reason="the peers' workload (../shared/bench) is absent")
def test_gpu_script_quick_mode_runs_every_step(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu.py"), str(tmp_path), "--quick",
                        "--bench-dir", str(BENCH)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    rows = [json.loads(line) for line in (tmp_path / "gpu.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows] == ["canonical_n1000", "canonical_n10000", "trials_n1000_b4", "v1_column"]
    assert all("error" not in row and "skipped" not in row for row in rows)
    assert all(row["run_s"] > 0 and row["rate_hz"] > 0 for row in rows)
    assert rows[2]["trials"] == 4 and rows[2]["batch_speedup"] > 0
    assert json.loads((tmp_path / "gpu_env.json").read_text())["backend"] == "cpu"
