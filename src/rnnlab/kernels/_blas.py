"""Find the CBLAS ``?gemm`` and ``?gemv`` that NumPy itself uses, so compiled kernels can call them
directly.

NumPy's wheels bundle OpenBLAS as ``scipy_openblas64`` (symbols ``scipy_cblas_sgemm64_`` and
``scipy_cblas_dgemm64_``, 64-bit integers). Using NumPy's own library keeps one BLAS thread pool
in the process, limited by the same ``OPENBLAS_NUM_THREADS`` / ``threadpoolctl`` settings as
NumPy. Other builds (MKL, Accelerate, a system OpenBLAS with other names) are not used: the
compiled engine is then unavailable and the reference loop runs.
"""

from __future__ import annotations

import ctypes
import glob
import os

SGEMM = "scipy_cblas_sgemm64_"
DGEMM = "scipy_cblas_dgemm64_"
SGEMV = "scipy_cblas_sgemv64_"
DGEMV = "scipy_cblas_dgemv64_"
# OpenBLAS's out-of-place transposed copy (an extension; used where present)
SOMATCOPY = "scipy_cblas_somatcopy64_"
DOMATCOPY = "scipy_cblas_domatcopy64_"


def _candidates() -> list[str]:
    import numpy as np

    root = os.path.dirname(os.path.abspath(np.__file__))
    paths: list[str] = []
    for pattern in (os.path.join(root, os.pardir, "numpy.libs", "*openblas*"),
                    os.path.join(root, ".dylibs", "*openblas*"),
                    os.path.join(root, os.pardir, "numpy.libs", "*.dll")):
        paths.extend(sorted(glob.glob(pattern)))
    try:  # whatever is mapped already (Linux)
        with open("/proc/self/maps") as maps:
            for line in maps:
                name = line.rsplit(None, 1)[-1]
                if "openblas" in name.lower() and name not in paths and os.path.exists(name):
                    paths.append(name)
    except OSError:
        pass
    return [os.path.normpath(p) for p in paths]


def find_gemm_library() -> str:
    """Path of a loaded-by-NumPy library exporting ``SGEMM``, ``DGEMM``, ``SGEMV`` and
    ``DGEMV``."""
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        if all(hasattr(lib, name) for name in (SGEMM, DGEMM, SGEMV, DGEMV)):
            return path
    raise ImportError(f"no library exporting {SGEMM}/{DGEMM}/{SGEMV}/{DGEMV} found next to NumPy "
                      "(NumPy is not using its bundled scipy-openblas)")
