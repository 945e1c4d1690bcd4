"""Print the recurrent engine and the versions of what CI tests against; exit 1 when one of them
is missing or broken (torch, keras, h5py, ray, scikit-learn, statsmodels, matplotlib, numba
with its BLAS)."""

from __future__ import annotations

import importlib
import os
import platform
import sys


def main() -> int:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import numpy

    from rnnlab import kernels

    print(f"python {platform.python_version()}  numpy {numpy.__version__}")
    broken = []
    for name in ("torch", "keras", "h5py", "ray", "sklearn", "statsmodels", "matplotlib"):
        try:
            print(f"{name} {importlib.import_module(name).__version__}")
        except Exception as exc:  # ImportError, or a package failing while it imports
            print(f"{name} BROKEN: {type(exc).__name__}: {exc}")
            broken.append(name)
    ok, detail = kernels.numba_status()
    print(f"numba engine: {detail if ok else 'BROKEN: ' + detail}")
    if not ok:
        broken.append("numba")
    print(f"engine: {kernels.engine_info()}")
    if broken:
        print(f"CI cannot run its oracles: {', '.join(broken)} missing or broken", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
