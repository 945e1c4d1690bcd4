"""Fast paths for the recurrent layers, and which one runs.

The readable per-step implementation (``rnnlab.cells`` + ``rnnlab.layers.sweep``) is the
*reference*: every fast path computes the same function (tested against it in float64 to 1e-12
relative, ``tests/test_fastpath.py``) and only changes how the work is laid out:

``numpy``      always available. Time-major, preallocated buffers (``P (T, N, G·H)`` projected
               inputs, the state sequence ``S (T+1, N, H)``, the cell sequence, activations
               written in place), in-place ufuncs with ``out=``, one ``tanh`` call for all gates
               of a step (the sigmoid gate rows of the weights are pre-scaled by 1/2, which is
               exact, and ``sigmoid(z) = (tanh(z/2) + 1)/2``), derivative factors for all steps
               computed before the backward loop, and one large product per weight gradient.
``numba``      when ``numba`` is installed (``pip install rnnlab[fast]``) and NumPy's own BLAS
               exports CBLAS (NumPy's wheels: ``scipy_openblas``). Each sweep (forward or
               backward, all steps) is one compiled call: the recurrent product calls NumPy's
               BLAS directly, the element-wise work is fused and vectorised (with a tanh that
               compiles to SIMD code: 1.3 ulp in float32, 4e-16 in float64). Compiled once per
               machine (``cache=True``; about 3 s per cell type and dtype, then ~0.15 s to load).
               With several BLAS threads, the batch rows are split into blocks that run on that
               many threads, one hand-off per sweep (rows are independent through time), with
               single-threaded BLAS inside (``_pool``); the whole-sequence products (input
               projection, weight gradients, input gradient) and ``Dense``'s products are split
               the same way (``products.matmul``), so BLAS's own threads, which spin for ~0.1 s
               after each threaded call, never compete with a sweep. The recurrent weight is
               copied once per call into column panels small enough for OpenBLAS's unpacked
               small-matrix kernels (AVX-512 cores), so no step re-packs the whole weight
               (``_numba_kernels.pack_panels``).
``reference``  the readable loop over ``cell.step`` / ``cell.step_backward``.

Selection: ``RNNLAB_ENGINE`` = ``auto`` (default: numba if usable, else numpy), ``numba``,
``numpy`` or ``reference``; read at every call, so it can be changed at run time. Custom cells
(anything but the exact built-in classes) and unsupported options (activations other than tanh,
sigmoid gates, ``GRU(reset_after=False)`` ...) always run the reference path.
``rnnlab.kernels.engine_info()`` says which engine is active and why; every recurrent layer
records the engine of its last call in ``layer.last_engine``.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

ENV_VAR = "RNNLAB_ENGINE"
ENGINES = ("auto", "numba", "numpy", "reference")

_numba_state: dict[str, Any] = {}


def requested_engine() -> str:
    """The engine asked for through ``RNNLAB_ENGINE`` (``auto`` when unset)."""
    value = os.environ.get(ENV_VAR, "auto").strip().lower() or "auto"
    if value not in ENGINES:
        raise ValueError(f"{ENV_VAR} must be one of {ENGINES}, got {value!r}")
    return value


def numba_status() -> tuple[bool, str]:
    """``(usable, detail)`` for the numba engine; tried once per process."""
    if not _numba_state:
        try:
            from . import _numba_kernels  # noqa: F401  (imports numba, finds BLAS)

            _numba_state["ok"] = True
            _numba_state["detail"] = _numba_kernels.DESCRIPTION
        except Exception as exc:  # ImportError, missing BLAS symbols, numba/NumPy mismatch
            _numba_state["ok"] = False
            _numba_state["detail"] = f"{type(exc).__name__}: {exc}"
    return _numba_state["ok"], _numba_state["detail"]


def engine() -> str:
    """The engine the next recurrent call will use for the built-in cells."""
    req = requested_engine()
    if req in ("numpy", "reference"):
        return req
    ok, detail = numba_status()
    if ok:
        return "numba"
    if req == "numba" and not _numba_state.get("warned"):
        _numba_state["warned"] = True
        warnings.warn(f"{ENV_VAR}=numba but the numba engine is unavailable ({detail}); using "
                      "the numpy engine", RuntimeWarning, stacklevel=3)
    return "numpy"


def engine_info() -> dict[str, Any]:
    """Which engine runs and why: ``{"engine", "requested", "numba"}``."""
    ok, detail = numba_status()
    return {"engine": engine(), "requested": requested_engine(),
            "numba": detail if ok else f"unavailable ({detail})"}


def implementation(name: str) -> Any:
    """The module implementing engine ``name`` (``numba`` or ``numpy``)."""
    if name == "numba":
        from . import _numba_kernels

        return _numba_kernels
    from . import _numpy_kernels

    return _numpy_kernels


__all__ = ["ENV_VAR", "ENGINES", "engine", "engine_info", "implementation", "numba_status",
           "requested_engine"]
