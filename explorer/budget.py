"""What one request may cost, checked before the work starts.

Thirty students share one 2-core server, so no single request may take more than about
``CPU_SECONDS`` of its CPU or ``EXTRA_BYTES`` of memory above the server's baseline. The work a
request causes is estimated from its sizes alone (a CSV's rows and fields; a model's parameters
× sequence length × batch; the points a chart sends) and compared with the caps below, each
measured on the project's machine (``benchmarks/budget.py`` prints the figures). A request over
a cap gets ``ValueError`` saying what was asked, the cap, and what to lower; nothing has been
computed yet. Pure Python: no torch, no Streamlit.
"""
from __future__ import annotations

CPU_SECONDS = 10.0  # the target for any one request
EXTRA_BYTES = 1 << 30  # the target for any one request: 1 GB above the baseline RSS

# ---- uploaded files (explorer.readers.read_series)
# Parsing costs about 2 s per million cells, plus ~7 ms per column (each column's numbers and
# dates are read separately): a 4 MB line of 2,000,000 fields ran 13 minutes and 12.8 GB.
MAX_CSV_ROWS = 1_000_000
MAX_CSV_COLUMNS = 200
MAX_CSV_CELLS = 2_000_000


def check_csv(rows: int, columns: int) -> None:
    """Refuse a table of ``rows`` lines × ``columns`` fields before it is parsed.

    Raises:
        ValueError: more than ``MAX_CSV_ROWS`` rows, ``MAX_CSV_COLUMNS`` fields in a line, or
            ``MAX_CSV_CELLS`` cells; the message gives the count, the cap and what to do.
    """
    if columns > MAX_CSV_COLUMNS:
        raise ValueError(f"a line of the file has {columns:,} fields; the limit is "
                         f"{MAX_CSV_COLUMNS:,} columns: keep the time column and the columns "
                         f"you want to use")
    if rows > MAX_CSV_ROWS:
        raise ValueError(f"the file has {rows:,} lines; the limit is {MAX_CSV_ROWS:,}: "
                         f"use a shorter stretch of the series, or one row per day instead "
                         f"of per minute")
    if rows * columns > MAX_CSV_CELLS:
        raise ValueError(f"the file has {rows:,} lines × {columns:,} columns = "
                         f"{rows * columns:,} cells; the limit is {MAX_CSV_CELLS:,}: keep "
                         f"fewer columns or fewer lines")
