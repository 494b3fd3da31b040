#!/bin/bash
# The whole pipeline on a GPU, as one short check: the throughput benchmark on the device (fp32 and bf16), then the
# main job (`tsssl main`) on GunPoint, seeds 0 and 1, and on ECG5000, seed 0, each in fp32 and in bf16: six jobs side
# by side on the one GPU, each with two CPU threads. On one NVIDIA H200 with 16 CPU cores: the benchmark 24 s, the
# GunPoint jobs about 160 s and the ECG5000 ones about 310 s (figures/cuda_h200/).
#
#   bash benchmarks/device_check.sh                  # in the repository root, tsssl set up (make setup), a GPU there
#   SKIP_BENCH=1 OUT=/tmp/check bash benchmarks/device_check.sh
#
# Then, on GunPoint seed 0's fp32 runs, the commands no GPU had run before ("paths"): `tsssl generate`, `tsssl evaluate`
# (stage 2, and stage 1 with its figures), `export-tokenizer` and `import-tokenizer` and a short stage 2 on the imported
# tokenizer, and a stage-1 run stopped by SIGINT at its first checkpoint and then run again, which must resume.
#
# Writes to $OUT (default runs/device_check): env.txt (GPU, versions, each job's and step's exit code and seconds),
# bench.txt, summaries.md (each job's summary table), resumed_status.json (the resumed run's attempts) and runs.tgz
# (the run folders and logs without checkpoints).
# Settings, from the environment: DEV (cuda), PY (.venv/bin/python if there, else python3), SKIP_BENCH=1,
# ONLY (a pattern of the jobs to run, e.g. 'GunPoint-s0-*'; all six by default), BENCH_T and MAIN_T (seconds before
# the benchmark and each job are stopped: 150 and 430), SKIP_PATHS=1, PATHS_T
# (seconds for each paths step: 180), RESUME_EPOCHS (the stopped run's epochs: 2000), EXTRA (more `tsssl main`
# options, e.g. "--stage1-epochs 2" for a dry run), WHEELS (a folder of wheels installed first with pip --no-index,
# for a machine without a package index); the data come from $TSSSL_DATA_DIR or the installed UCR packages.
set -u
DEV=${DEV:-cuda}; EXTRA=${EXTRA:-}; OUT=${OUT:-runs/device_check}; ONLY=${ONLY:-*}
PY=${PY:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
BENCH_T=${BENCH_T:-150}; MAIN_T=${MAIN_T:-430}; PATHS_T=${PATHS_T:-180}; RESUME_EPOCHS=${RESUME_EPOCHS:-2000}
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
paths() {  # what no GPU had run before: generate, evaluate, a tokenizer exported and imported, a run stopped and resumed
  local src="$W/GunPoint-s0-fp32" P="$W/paths" s1 s2; mkdir -p "$P"
  s1=$(ls -d "$src"/stage1/*/ 2>/dev/null | grep -m1 vqvae); s2=$(ls -d "$src"/stage2/*/ 2>/dev/null | grep -m1 vqvae)
  if [ -z "$s1" ] || [ -z "$s2" ]; then echo "paths: skipped, GunPoint-s0-fp32 left no stage-1 and stage-2 run" >> "$W/logs/exit.txt"; return; fi
  step() {  # step NAME SIGNAL SECONDS TSSSL-ARGS...: one tsssl command (with the finished job's cached evaluators), its exit code and seconds
    local n=$1 sig=$2 lim=$3 t=$(date +%s); shift 3
    OMP_NUM_THREADS=2 TSSSL_CACHE_DIR="$W/cache_GunPoint-s0-fp32" timeout -s "$sig" "$lim" $PY -c "import sys; from tsssl.cli import main; main(sys.argv[1:])" \
      "$@" > "$W/logs/paths_$n.log" 2>&1
    echo "paths $n: exit $? in $(( $(date +%s) - t )) s" >> "$W/logs/exit.txt"
  }
  step generate TERM "$PATHS_T" generate "$s2" -n 64 --device "$DEV" -o "$P/generated.npy"
  step evaluate-stage2 TERM "$PATHS_T" evaluate "$s2" --device "$DEV"
  step evaluate-stage1 TERM "$PATHS_T" evaluate "$s1" --device "$DEV" --figures
  step export TERM "$PATHS_T" export-tokenizer "$s1" "$P/tokenizer.pt"
  step import TERM "$PATHS_T" import-tokenizer "$P/tokenizer.pt" "$P/imported"
  step stage2-imported TERM "$PATHS_T" stage2 --stage1-dir "$P/imported" --epochs 3 --fcn-epochs 2 --cas-fcn-epochs 2 \
    --n-samples 64 --device "$DEV" --progress false --out-dir "$P/stage2_imported"
  # a run stopped by Ctrl-C (SIGINT) once its first checkpoint is written (10 % of its epochs), then the same command again
  local resume=(stage1 --dataset GunPoint --epochs "$RESUME_EPOCHS" --device "$DEV" --progress false --draw-figures false --out-dir "$P/resumed")
  local t=$(date +%s) pid waited=0
  # a background job starts with SIGINT ignored, so Python would not raise KeyboardInterrupt: give it Ctrl-C's handler back
  OMP_NUM_THREADS=2 TSSSL_CACHE_DIR="$W/cache_GunPoint-s0-fp32" $PY -c \
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); from tsssl.cli import main; main(sys.argv[1:])" \
    "${resume[@]}" > "$W/logs/paths_stopped.log" 2>&1 & pid=$!
  while [ ! -f "$P/resumed/checkpoint.pt" ] && kill -0 $pid 2>/dev/null && [ $waited -lt "$PATHS_T" ]; do sleep 1; waited=$((waited + 1)); done
  kill -INT $pid 2>/dev/null; wait $pid
  echo "paths stopped: exit $? in $(( $(date +%s) - t )) s" >> "$W/logs/exit.txt"
  step resumed TERM "$PATHS_T" "${resume[@]}"
  cp "$P/resumed/status.json" "$OUT/resumed_status.json" 2>/dev/null
}
names=()
start() {  # start NAME DATASET SEED PRECISION: the job in the background, if ONLY selects it; paths after GunPoint-s0-fp32
  case "$1" in $ONLY) ;; *) return ;; esac
  names+=("$1")
  if [ "$1" = GunPoint-s0-fp32 ] && [ -z "${SKIP_PATHS:-}" ]; then { job "$@"; paths; } & else job "$@" & fi
}
for p in fp32 bf16; do
  for s in 0 1; do start "GunPoint-s$s-$p" GunPoint "$s" "$p"; done
  start "ECG5000-s0-$p" ECG5000 0 "$p"
done
wait
cat "$W/logs/exit.txt" >> "$OUT/env.txt"
for n in "${names[@]}"; do
  echo "## $n"; echo
  if [ -f "$W/$n/summary.md" ]; then cat "$W/$n/summary.md"; else echo "(no summary: see logs/$n.log in runs.tgz)"; fi; echo
done > "$OUT/summaries.md"
tar czf "$OUT/runs.tgz" -C "$W" --exclude='*.pt' --exclude='cache_*' . && rm -rf "$W"
echo "written to $OUT: $(ls "$OUT" | tr '\n' ' ')"
