"Shared pytest set-up: quiet, offline, single-threaded torch, no prompts."
import os

os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("OMP_NUM_THREADS", "1")  # two xdist workers on two cores: no BLAS oversubscription
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ["IN_TEST"] = "1"  # tsssl and nbdev read this to pick tiny, single-threaded settings

import torch  # noqa: E402

torch.set_num_threads(1)  # two xdist workers on two cores
