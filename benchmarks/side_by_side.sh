#!/usr/bin/env bash
# jaxfne and its peers (Brian2 cpp_standalone 2 threads, BrainPy) on the canonical network,
# run in alternating rounds by the peers' own driver (../shared/bench), then tabulated. Like the
# peers, jaxfne records each cell's spike count over the run (--sample-ms 1000: reduced on the fly).
#   bash benchmarks/side_by_side.sh [N ...]        (default: 1000 10000 100000)
# Needs the peers' environments once: bash ../shared/bench/setup.sh (a few minutes, PyPI).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bench=${BENCH_DIR:-$here/../shared/bench}
python=${PYTHON:-$here/.venv/bin/python}
out=${OUT:-/tmp/perf/results/side_by_side_$(date +%Y%m%d_%H%M%S).jsonl}
ns=("$@"); [ ${#ns[@]} -gt 0 ] || ns=(1000 10000 100000)
[ -x /tmp/perf/venv/bin/python ] && [ -x /tmp/perf/venv_brian2/bin/python ] || bash "$bench/setup.sh"
python3 "$bench/run_all.py" --N "${ns[@]}" --rounds "${ROUNDS:-2}" --reps 2 --out "$out" \
  --only brian2_standalone_t2,brainpy_bp_runner,jaxfne \
  --extra "jaxfne=$python $here/benchmarks/canonical.py --result --sample-ms 1000 --bench-dir $bench"
python3 "$bench/summarize.py" "$out" --ref brian2_standalone_t2,brainpy_bp_runner
