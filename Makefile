# tsssl: the two commands a fresh machine needs are `make main` and `make test`.
# Both create .venv on first use (torch pinned to 2.13.0 unless TORCH_SPEC says otherwise; see the README for a CPU-only build)
# and reuse it afterwards; the install re-runs only when settings.ini or setup.py change.
SHELL := /bin/bash
PYTHON ?= python3
TORCH_SPEC ?= torch==2.13.0
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.tsssl-installed
export WANDB_MODE ?= offline
export WANDB_SILENT ?= true
export MPLBACKEND ?= Agg
# glibc: keep freed blocks in the heap instead of unmapping and re-faulting the large per-step buffers
# (5-10 % faster CPU training steps here; see the README's Speed section)
export MALLOC_MMAP_MAX_ ?= 0
export MALLOC_TRIM_THRESHOLD_ ?= 68719476736

.PHONY: main test setup sync docs figures reproduction clean-runs readme bench

main: $(STAMP)  ## run the main job: the thesis pipeline on GunPoint, CPU-sized
	$(BIN)/tsssl main --out-dir runs/main < /dev/null

test: $(STAMP)  ## run every library notebook and test under pytest
	$(BIN)/python -m pytest -q -n 2 tests < /dev/null

setup: $(STAMP)

BENCH_ARGS ?= --profile
bench: $(STAMP)  ## training and generation throughput on this machine, fp32 and bf16, with each step's share of the kernel rate and where its time goes (benchmarks/throughput.py; minutes on a CPU)
	$(BIN)/python benchmarks/throughput.py $(BENCH_ARGS) < /dev/null

$(STAMP): settings.ini setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(TORCH_SPEC)
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

sync: $(STAMP)  ## export notebooks to the library and clean them (run before committing)
	$(BIN)/nbdev_export && $(BIN)/nbdev_clean

docs: $(STAMP)  ## build the docs site offline from the notebooks into _docs/html; fails on a missing page or a broken link
	$(BIN)/python docs/build.py

CPU_SWEEPS := cpu_offline cpu_offline_slice cpu_offline_gauss cpu_offline_osuleaf aug_recon_weight_cpu aug_robustness_cpu aug_robustness_cpu_fid
figures: $(STAMP)  ## run the CPU sweeps (finished runs are skipped; hours on 2 cores) and write figures/cpu from their results
	for s in $(CPU_SWEEPS); do $(BIN)/tsssl-sweep configs/sweeps/$$s.yaml --max-workers 2 < /dev/null; done
	$(BIN)/tsssl figures

THESIS_SWEEPS := thesis_ecg5000 thesis_ford thesis_ford_epochs thesis_electricdevices
# about 2 h per run on 2 cores: not run by `make reproduction` (tsssl-sweep configs/sweeps/thesis_ford_long.yaml --max-workers 1), but drawn when its runs are there
THESIS_LONG := thesis_ford_long
# finished stage-1 tokenizers of the reproduction, committed as files (figures/thesis/tokenizers/<sweep>/<run id>.pt) so that
# its stage-2 runs need not retrain them; each becomes runs/sweeps/<sweep>/stage1/<run id> unless that directory exists
TOKENIZERS := figures/thesis/tokenizers
reproduction: $(STAMP)  ## the thesis' own datasets on this CPU (hours; finished runs are skipped), then figures/thesis: tsssl beside the thesis
	shopt -s nullglob; for f in $(TOKENIZERS)/*/*.pt; do r=runs/sweeps/$$(basename $$(dirname $$f))/stage1/$$(basename $$f .pt); \
		test -e $$r || $(BIN)/tsssl import-tokenizer $$f $$r < /dev/null || exit 1; done
	for s in $(THESIS_SWEEPS); do $(BIN)/tsssl-sweep configs/sweeps/$$s.yaml --max-workers 2 < /dev/null; done
	$(BIN)/tsssl figures --main-sweeps --thesis-sweeps $(THESIS_SWEEPS) $(THESIS_LONG) --aug-recon-sweep none --robustness-sweep none --precision-sweep none \
		--out-dir figures/thesis --label "2-core CPU"

clean-runs:  ## delete the git-ignored run outputs
	rm -rf runs wandb

readme: $(STAMP)  ## regenerate README.md from nbs/index.ipynb (executed, hidden cells dropped)
	mkdir -p runs/readme
	cd nbs && ../$(BIN)/jupyter nbconvert --to notebook --execute index.ipynb --output-dir ../runs/readme --output index
	rm -rf README_files  # images of cells that moved or went would stay behind
	$(BIN)/jupyter nbconvert --to markdown --RegexRemovePreprocessor.patterns='#\|\s*hide' runs/readme/index.ipynb --output-dir . --output README
