__version__ = "0.1.0"

# The most used entry points, importable from the package root without loading torch at `import tsssl`.
_LAZY = {"load_ucr": "tsssl.data", "generate": "tsssl.stage2", "load_runs": "tsssl.results",
         "load_wandb_runs": "tsssl.results", "run_pipeline": "tsssl.pipeline"}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tsssl' has no attribute {name!r}")
