#!/bin/bash
# The whole pipeline on a GPU, as one short check: the throughput benchmark on the device (fp32 and bf16), then the
# main job (`tsssl main`) on GunPoint, seeds 0 and 1, and on ECG5000, seed 0, each in fp32 and in bf16: six jobs side
# by side on the one GPU, each with two CPU threads. On one NVIDIA H200 with 16 CPU cores: the benchmark 24 s, the
# GunPoint jobs about 160 s and the ECG5000 ones about 310 s (figures/cuda_h200/).
#
#   bash benchmarks/device_check.sh                  # in the repository root, tsssl set up (make setup), a GPU there
#   SKIP_BENCH=1 OUT=/tmp/check bash benchmarks/device_check.sh
#
# Writes to $OUT (default runs/device_check): env.txt (GPU, versions, each job's exit code and seconds), bench.txt,
# summaries.md (each job's summary table) and runs.tgz (the six run folders without checkpoints).
# Settings, from the environment: DEV (cuda), PY (.venv/bin/python if there, else python3), SKIP_BENCH=1,
# BENCH_T and MAIN_T (seconds before the benchmark and each job are stopped: 150 and 430), EXTRA (more `tsssl main`
# options, e.g. "--stage1-epochs 2" for a dry run), WHEELS (a folder of wheels installed first with pip --no-index,
# for a machine without a package index); the data come from $TSSSL_DATA_DIR or the installed UCR packages.
set -u
DEV=${DEV:-cuda}; EXTRA=${EXTRA:-}; OUT=${OUT:-runs/device_check}
PY=${PY:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
BENCH_T=${BENCH_T:-150}; MAIN_T=${MAIN_T:-430}
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg
if [ -n "${WHEELS:-}" ]; then  # no package index there: install the missing pure-Python packages from a folder
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/tsssl_site "$WHEELS"/*.whl || exit 3
  export PYTHONPATH=$PWD:/tmp/tsssl_site
fi
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
W=$(mktemp -d); mkdir -p "$W/logs"
{ date -u; echo "$(nproc) CPU cores"; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1
  $PY -c "import sys, torch; print('python', sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.version.cuda)"
} > "$OUT/env.txt" 2>&1

if [ -z "${SKIP_BENCH:-}" ]; then
  t=$(date +%s)
  timeout "$BENCH_T" $PY benchmarks/throughput.py --device "$DEV" --precision fp32 bf16 > "$OUT/bench.txt" 2>&1
  echo "benchmark: exit $? in $(( $(date +%s) - t )) s" >> "$OUT/env.txt"
fi

job() {  # job NAME DATASET SEED PRECISION: one main job, its own cache (no two jobs wait on one evaluator's lock)
  local t=$(date +%s)
  OMP_NUM_THREADS=2 TSSSL_CACHE_DIR="$W/cache_$1" timeout "$MAIN_T" $PY -c "import sys; from tsssl.cli import main; main(sys.argv[1:])" \
    main --dataset "$2" --seed "$3" --precision "$4" --device "$DEV" --progress false --out-dir "$W/$1" $EXTRA > "$W/logs/$1.log" 2>&1
  echo "$1: exit $? in $(( $(date +%s) - t )) s" >> "$W/logs/exit.txt"
}
names=()
for p in fp32 bf16; do
  for s in 0 1; do job "GunPoint-s$s-$p" GunPoint "$s" "$p" & names+=("GunPoint-s$s-$p"); done
  job "ECG5000-s0-$p" ECG5000 0 "$p" & names+=("ECG5000-s0-$p")
done
wait
cat "$W/logs/exit.txt" >> "$OUT/env.txt"
for n in "${names[@]}"; do
  echo "## $n"; echo
  if [ -f "$W/$n/summary.md" ]; then cat "$W/$n/summary.md"; else echo "(no summary: see logs/$n.log in runs.tgz)"; fi; echo
done > "$OUT/summaries.md"
tar czf "$OUT/runs.tgz" -C "$W" --exclude='*.pt' --exclude='cache_*' . && rm -rf "$W"
echo "written to $OUT: $(ls "$OUT" | tr '\n' ' ')"
