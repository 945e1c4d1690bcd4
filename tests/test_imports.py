"""Import hygiene: the library never imports PyTorch at run time (only tests and benchmarks do).
Kept apart from the PyTorch oracle modules so that it runs where torch is absent too."""

from __future__ import annotations

import subprocess
import sys


def test_importing_rnnlab_does_not_import_torch() -> None:
    code = ("import sys, rnnlab, rnnlab.interop, rnnlab.layers, rnnlab.models, rnnlab.cli; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
