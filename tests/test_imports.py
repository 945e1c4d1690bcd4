"""Import hygiene: the library never imports PyTorch at run time (only tests and benchmarks do).
Kept apart from the PyTorch oracle modules so that it runs where torch is absent too."""

from __future__ import annotations

import subprocess
import sys


def test_importing_rnnlab_does_not_import_torch() -> None:
    code = ("import sys, rnnlab, rnnlab.interop, rnnlab.layers, rnnlab.models, rnnlab.cli; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_numba_loads_at_compile_not_at_import_or_in_the_first_step() -> None:
    """``import rnnlab`` leaves numba alone; ``compile`` of a model with a recurrent layer
    (wrapped in ``Bidirectional`` here) loads it and the cell's compiled sweep, so the first
    training step does not (unless the engine is the reference one, or numba is missing)."""
    code = (
        "import sys, rnnlab\n"
        "from rnnlab import kernels, layers\n"
        "assert 'numba' not in sys.modules, 'numba imported by import rnnlab'\n"
        "m = rnnlab.Sequential([rnnlab.Input((5, 3)), layers.Bidirectional(layers.GRU(4)),\n"
        "                       layers.Dense(1)])\n"
        "with rnnlab.engine('reference'):\n"
        "    m.compile(optimizer='sgd', loss='mse')\n"
        "assert 'numba' not in sys.modules, 'numba imported under the reference engine'\n"
        "m.compile(optimizer='sgd', loss='mse')\n"
        "if kernels.numba_status()[0]:\n"
        "    assert 'rnnlab.cells.gru.sweep' in sys.modules, 'no compiled sweep loaded'\n")
    subprocess.run([sys.executable, "-c", code], check=True)
