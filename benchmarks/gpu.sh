#!/usr/bin/env bash
# GPU figures in one prepared run (see benchmarks/gpu.py). Usage: bash benchmarks/gpu.sh RESULTS_DIR [--quick]
# On the lent GPU machine nothing can be downloaded: its python3 has JAX with CUDA; jaxfne is
# installed there without dependencies, with the cattrs wheel and the peers' workload carried
# in .gpu_carry/ (prepare here: pip download --no-deps -d .gpu_carry cattrs &&
# cp -r ../shared/bench .gpu_carry/bench; then run with carry: [".gpu_carry"]).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if ! "$PY" -c "import jaxfne_core" 2>/dev/null; then
    if ! "$PY" -c "import cattrs" 2>/dev/null; then
        "$PY" -m pip install -q --no-index --no-deps .gpu_carry/*.whl
    fi
    "$PY" -m pip install -q --no-index --no-deps --no-build-isolation -e .
fi
export PYTHONUNBUFFERED=1
if [ -z "${JAXFNE_BENCH_DIR:-}" ] && [ -f .gpu_carry/bench/workload.py ]; then
    export JAXFNE_BENCH_DIR="$PWD/.gpu_carry/bench"
fi
exec "$PY" benchmarks/gpu.py "$@"
