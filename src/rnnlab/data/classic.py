"""Classic real series as CSV files, from the ``statsmodels`` data sets (a dev dependency).

:func:`write_classic_csv` writes one of :data:`SERIES` to a CSV file that ``rnnlab run
timeseries --data FILE --column NAME`` reads: a ``time`` column, then the numeric columns.
``statsmodels`` ships these files inside its package, so nothing is downloaded. Command line::

    python -m rnnlab.data.classic co2 co2.csv

- ``co2``: weekly atmospheric CO2 at Mauna Loa, 1958-2001 (ppm; 2,284 weeks, 59 missing,
  left empty): a trend with a yearly cycle.
- ``sunspots``: yearly sunspot activity, 1700-2008 (309 years): an irregular ~11-year cycle.
- ``nile``: the yearly flow of the Nile at Aswan, 1871-1970 (100 years): a level shift in noise.
- ``macrodata``: US quarterly macroeconomic series, 1959-2009 (203 quarters, 12 columns such as
  ``realgdp``, ``realcons``, ``unemp``): several series at once.
"""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path
from typing import Any

SERIES = ("co2", "sunspots", "nile", "macrodata")


def classic_frame(name: str) -> tuple[list[str], list[list[Any]]]:
    """``(header, rows)`` of the series ``name`` (``time`` first)."""
    if name not in SERIES:
        raise ValueError(f"unknown series {name!r}; choose one of: {', '.join(SERIES)}")
    try:
        import statsmodels.datasets as datasets
    except ImportError as exc:  # pragma: no cover - statsmodels is a dev dependency
        raise ImportError("the classic series come from statsmodels: pip install statsmodels"
                          ) from exc
    frame = getattr(datasets, name).load_pandas().data
    if name == "co2":
        times = [str(t.date()) for t in frame.index]
        cols = ["co2"]
    elif name == "macrodata":
        times = [f"{int(y)}Q{int(q)}" for y, q in zip(frame["year"], frame["quarter"])]
        cols = [c for c in frame.columns if c not in ("year", "quarter")]
    else:
        year = frame.columns[0]
        times = [f"{int(v)}-01-01" for v in frame[year]]  # a date: not an input column
        cols = [c for c in frame.columns if c != year]
    rows = []
    for k, t in enumerate(times):
        vals = [frame[c].iloc[k] for c in cols]
        rows.append([t, *("" if v != v else f"{float(v):.10g}" for v in vals)])
    return ["time", *cols], rows


def write_classic_csv(name: str, path: str | os.PathLike[str]) -> Path:
    header, rows = classic_frame(name)
    out = Path(path)
    with open(out, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return out


if __name__ == "__main__":  # pragma: no cover
    if len(sys.argv) != 3:
        sys.exit(f"usage: python -m rnnlab.data.classic {{{','.join(SERIES)}}} FILE.csv")
    print(write_classic_csv(sys.argv[1], sys.argv[2]))
