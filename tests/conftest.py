from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def shared_data() -> Path:
    """The shared data folder beside the project; tests using it skip where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def three_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Row blocks of at least 2 rows on 3 threads under the numba engine, whatever this machine
    has (the BLAS thread count is left alone)."""
    from rnnlab import kernels
    from rnnlab.kernels import _pool

    monkeypatch.setattr(_pool, "MIN_ROWS", 2)
    if kernels.numba_status()[0]:
        from rnnlab.kernels import _numba_kernels

        monkeypatch.setattr(_numba_kernels, "threads", lambda: 3)
        monkeypatch.setattr(_numba_kernels, "_set_local", lambda n: 0)


# -- CI cannot lose its oracles ------------------------------------------------------------------
# Under CI (the environment variable CI set, not "0"/"false"), the components CI is meant to test
# must be there and work: the session stops at once when one is missing or broken, and a test that
# skips for one of them fails instead of passing unnoticed.
CI_COMPONENTS = ("torch", "numba", "keras", "h5py", "ray")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def component_versions() -> dict[str, str]:
    """Each CI component's version, or ``"BROKEN: <error>"``; the numba entry is the compiled
    engine as rnnlab finds it (numba imported and its BLAS found)."""
    import importlib

    from rnnlab import kernels

    os.environ.setdefault("KERAS_BACKEND", "torch")
    out = {}
    for name in ("torch", "keras", "h5py", "ray"):
        try:
            out[name] = str(importlib.import_module(name).__version__)
        except Exception as exc:  # ImportError, or a package that fails while importing
            out[name] = f"BROKEN: {type(exc).__name__}: {exc}"
    ok, detail = kernels.numba_status()
    out["numba"] = detail if ok else f"BROKEN: {detail}"
    out["engine"] = kernels.run_engine()["engine"]
    return out


def pytest_report_header(config: Any) -> list[str]:
    if not in_ci():
        return []
    return ["CI components: " + ", ".join(f"{k}={v}" for k, v in component_versions().items())]


def pytest_sessionstart(session: Any) -> None:
    if not in_ci():
        return
    broken = {k: v for k, v in component_versions().items() if v.startswith("BROKEN")}
    if broken:
        lines = "\n".join(f"  {k}: {v}" for k, v in broken.items())
        pytest.exit(f"CI requires {', '.join(CI_COMPONENTS)} and the compiled engine; "
                    f"broken or missing:\n{lines}", returncode=3)


def _skip_for_component(report: Any) -> str | None:
    """The skip reason when ``report`` is a skip caused by a CI component, else None."""
    if not report.skipped or not isinstance(report.longrepr, tuple):
        return None
    reason = str(report.longrepr[-1])
    words = set(re.findall(r"[a-z0-9_]+", reason.lower()))  # whole words: "ray", not "array"
    return reason if words & set(CI_COMPONENTS) else None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Any:
    outcome = yield
    report = outcome.get_result()
    reason = _skip_for_component(report) if in_ci() else None
    if reason is not None and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, where it must run: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: Any) -> Any:
    outcome = yield
    report = outcome.get_result()
    reason = _skip_for_component(report) if in_ci() else None
    if reason is not None:
        report.outcome = "failed"
        report.longrepr = f"module skipped under CI, where it must run: {reason}"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """How many cases each fuzz test ran (tests/test_fuzz.py records them)."""
    counts = terminalreporter.config.__dict__.get("fuzz_counts")
    if counts:
        shown = ", ".join(f"{name} {n}" for name, n in sorted(counts.items()))
        terminalreporter.write_line(f"fuzz cases: {shown} (total {sum(counts.values())})")
