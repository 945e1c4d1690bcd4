"""Which sweep runs a recurrent layer: the compiled one or the reference loop.

Two engines compute the same numbers (tested against each other in float64 to 1e-12 relative,
``tests/test_fastpath.py``):

``compiled``   a cell's own compiled sweep (``cell.compiled_sweep()``, numba; the built-in cells
               keep theirs beside their reference step, ``rnnlab.cells.lstm.sweep`` ...). Each
               sweep (forward or backward, all steps) is one compiled call on time-major buffers
               (``driver``): the recurrent product calls NumPy's BLAS directly (``_blas``), the
               element-wise work is fused and vectorised (a tanh that compiles to SIMD code: 1.3
               ulp in float32, 4e-16 in float64). Compiled once per machine (``cache=True``).
               With several BLAS threads the batch rows are split into blocks that run on that
               many threads, one hand-off per sweep, with single-threaded BLAS inside (``_pool``;
               the limit is each thread's own, nothing process-wide changes); a sweep
               with few rows per thread and a large weight splits each step by units
               instead (``_numba_kernels.unit_blocks``; LSTM); the whole-sequence products
               and ``Dense``'s are split by rows (``products.matmul``). The recurrent
               weight is packed once per call into column strips, and every step's product
               is a vector kernel over them instead of a BLAS call (``_strips``), except on
               cores whose OpenBLAS has small-matrix kernels: there the weight goes into
               column panels sized for those (``pack_panels``).
``reference``  the readable loop over ``cell.step`` / ``cell.step_backward``
               (``rnnlab.layers.sweep``), for every cell.

Choice: ``auto`` (default: compiled where the cells of a layer provide a compiled sweep, else
reference), ``compiled`` (``numba`` is accepted as a synonym) or ``reference``. The default comes
from ``RNNLAB_ENGINE``, read once, on first use; ``with rnnlab.engine("reference"):``
(``use_engine``) overrides it for the calling thread (a ``contextvars`` value, so other threads
are unaffected). ``choose(cells)`` says which engine a layer runs and why; ``engine_info()`` sums
up the process (numba found or not, and why not).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator, Sequence
from typing import Any

ENV_VAR = "RNNLAB_ENGINE"
ENGINES = ("auto", "compiled", "reference")
_SYNONYMS = {"numba": "compiled"}

_numba_state: dict[str, Any] = {}
_env_default: list[str] = []  # RNNLAB_ENGINE, read once
_chosen: contextvars.ContextVar[str | None] = contextvars.ContextVar("rnnlab_engine",
                                                                     default=None)


def check_engine(name: Any, where: str = "engine") -> str:
    """``name`` as one of ``ENGINES`` (``numba`` -> ``compiled``), or a clear error."""
    value = str(name).strip().lower() or "auto"
    value = _SYNONYMS.get(value, value)
    if value not in ENGINES:
        extra = " (the NumPy engine was removed: use 'reference')" if value == "numpy" else ""
        raise ValueError(f"{where} must be one of {ENGINES}, got {name!r}{extra}")
    return value


def env_engine() -> str:
    """The default engine from ``RNNLAB_ENGINE`` (``auto`` when unset), read on first use."""
    if not _env_default:
        _env_default.append(check_engine(os.environ.get(ENV_VAR, "auto"), ENV_VAR))
    return _env_default[0]


def requested_engine() -> str:
    """The engine asked for in this thread: ``use_engine``'s, else ``env_engine()``."""
    value = _chosen.get()
    return value if value is not None else env_engine()


@contextlib.contextmanager
def use_engine(name: str) -> Iterator[str]:
    """``with rnnlab.engine("reference"): ...``: run recurrent layers on ``name`` (``auto``,
    ``compiled`` or ``reference``) inside the block, in the calling thread only."""
    token = _chosen.set(check_engine(name))
    try:
        yield _chosen.get() or "auto"
    finally:
        _chosen.reset(token)


def numba_status() -> tuple[bool, str]:
    """``(usable, detail)`` for compiled sweeps; tried once per process."""
    if not _numba_state:
        try:
            from . import _numba_kernels  # (imports numba, finds BLAS)

            _numba_state["ok"] = True
            _numba_state["detail"] = _numba_kernels.DESCRIPTION
            _numba_state["module"] = _numba_kernels
        except Exception as exc:  # ImportError, missing BLAS symbols, numba/NumPy mismatch
            _numba_state["ok"] = False
            _numba_state["detail"] = f"{type(exc).__name__}: {exc}"
    return _numba_state["ok"], _numba_state["detail"]


def choose(cells: Sequence[Any], requested: str | None = None) -> tuple[str, list[Any], str]:
    """``(engine, sweeps, reason)`` for a stack of cells: ``"compiled"`` with one compiled sweep
    per cell when every cell provides one and the compiled engine is allowed, else
    ``"reference"`` with the reason (empty when the reference was asked for)."""
    req = check_engine(requested) if requested is not None else requested_engine()
    if req == "reference":
        return "reference", [], "reference engine requested"
    ok, detail = numba_status()
    if not ok:
        return "reference", [], f"numba unavailable ({detail})"
    sweeps = [c.compiled_sweep() for c in cells]
    for c, s in zip(cells, sweeps):
        if s is None:
            return "reference", [], (f"{type(c).__name__} has no compiled sweep for its "
                                     "configuration")
    return "compiled", sweeps, ""


def engine_info() -> dict[str, Any]:
    """``{"requested", "compiled", "numba"}``: the engine asked for in this thread, whether
    compiled sweeps can run at all, and numba's description (or why it is unusable)."""
    ok, detail = numba_status()
    req = requested_engine()
    return {"requested": req, "compiled": ok and req != "reference",
            "numba": detail if ok else f"unavailable ({detail})"}


def run_engine() -> dict[str, str]:
    """``{"engine", "why"}`` for a run's record: the engine the built-in cells run on in this
    thread and why (a layer whose cells have no compiled sweep still falls back, per layer:
    ``RNN.engine_choice()``)."""
    req = requested_engine()
    ok, detail = numba_status()
    if req == "reference":
        return {"engine": "reference", "why": "requested (RNNLAB_ENGINE or rnnlab.engine)"}
    if not ok:
        return {"engine": "reference", "why": f"numba unavailable: {detail}"}
    return {"engine": "compiled", "why": detail}


def threads_module() -> Any | None:
    """The compiled kernels' module (its ``parallel_rows`` and ``threads``), None without numba
    or under the reference engine."""
    if requested_engine() == "reference" or not numba_status()[0]:
        return None
    return numba_module()


def numba_module() -> Any:
    """The compiled kernels' module (``_numba_kernels``, kept by ``numba_status``; imported here
    when that has not run), whatever the engine asked for: for callers already on the compiled
    path (``driver``)."""
    module = _numba_state.get("module")
    if module is None:
        from . import _numba_kernels as module
    return module


__all__ = ["ENGINES", "ENV_VAR", "check_engine", "choose", "engine_info", "env_engine",
           "numba_module", "numba_status", "requested_engine", "run_engine", "threads_module",
           "use_engine"]
