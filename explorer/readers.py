"""Read a user's time series from a CSV-like file into a clean table of numbers.

:func:`read_series` takes what people actually upload — spreadsheet exports with a byte-order
mark, semicolons and decimal commas, tab-separated text, UTF-16 from Excel, NOAA-style tables
with one column per month — and returns a ``pandas.DataFrame`` of float64 columns in time
order, or raises ``ValueError`` saying what is wrong with the file. It never raises anything
else, whatever the bytes.

The steps, each a small function below: bytes (size limit) -> text (encoding) -> lines (blank,
comment and title lines dropped) -> separator (sniffed) -> a table of strings (``pd.read_csv``)
-> header row? -> numbers per column (decimal point or comma, thousands separators) -> time
axis (a date column, year/month/day columns, or a wide Year × Jan … Dec table) -> clean rows.
Then, for a table it returned: :func:`time_columns` and :func:`value_columns` (what the user may
pick) and :func:`series_from_frame` (the chosen column as a series in time order).
"""

from __future__ import annotations

import csv
import io
import os
import re
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from .budget import check_csv

MIN_ROWS = 3  # fewer values than this is not a sequence worth stepping through
# The largest magnitude a value may have: the models compute in float32, whose finite range
# ends at ±3.4e38 (a series of ±1e300 overflowed the spread and standardised to zeros).
MAX_MAGNITUDE = float(np.finfo(np.float32).max)
DATE_SHARE = 0.8  # a column is the time axis if this share of its cells read as dates
ENCODINGS = "UTF-8, UTF-16, UTF-32 (with a byte-order mark), Windows-1252 and Latin-1"

MISSING = frozenset(
    {
        "",
        "na",
        "n/a",
        "n.a.",
        "nan",
        "null",
        "none",
        "-",
        "--",
        "—",
        "?",
        ".",
        "..",
        "#n/a",
        "missing",
        "***",
        "****",
    }
)
MONTHS = {
    name: k
    for k, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
TIME_WORDS = frozenset(
    {"date", "time", "datetime", "timestamp", "month", "year", "day", "week", "period"}
)

# Numbers as text. "point": 3.14, 1e-3, 1,234,567.8 (strict groups of three after a comma);
# "comma": 3,14, 1.234.567,8. An integer such as 42 reads the same both ways.
# [0-9] rather than \d: ASCII digits only, and pyarrow runs it vectorised (no re flags).
_POINT = (
    r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"|[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?"
)
_COMMA = (
    r"[+-]?(?:[0-9]+,?[0-9]*|,[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"|[+-]?[0-9]{1,3}(?:\.[0-9]{3})+(?:,[0-9]*)?"
)
_INF = r"[+-]?inf(?:inity)?"
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # not tab, newline, \v, \f, \r
_DELIMITERS = ("\t", ";", ",", "|")  # on a tie in consistency, the earlier one wins
_DECIMAL_COMMA = re.compile(r"[+-]?\d+(?:,\d+)?", re.ASCII)
ONE_COLUMN = "\x1f"  # the "separator" of a one-column file: a character no line contains
_DAY_FIRST = re.compile(r"\d{1,2}\.\d{1,2}\.\d{2,4}\b")  # 31.12.2020 is always day first


def read_series(source, *, max_bytes: int = 5_000_000) -> pd.DataFrame:
    """Read a time series from a CSV / TSV file into a DataFrame of float64 columns.

    Args:
        source: a path (``str`` or ``os.PathLike``), raw ``bytes``, or a binary or text
            file-like object (Streamlit's ``UploadedFile``, ``io.BytesIO``, ``io.StringIO``);
            a seekable object is read from its start.
        max_bytes: the largest file accepted, in bytes.

    Returns:
        A DataFrame of the file's numeric columns (float64, every value finite, at least
        ``MIN_ROWS`` rows), in time order:

        - a date/time column (one whose cells mostly read as dates), or integer year (+ month
          (+ day)) columns, become a sorted ``DatetimeIndex`` named after the column; duplicate
          time stamps are kept; rows whose time stamp is empty or unreadable are dropped;
        - a wide table (a year column and twelve month columns ``Jan`` … ``Dec``, 3-letter or
          full English names, any case) becomes one column ``"value"`` indexed by the first day
          of each month (index ``"date"``); its other columns (``Annual`` …) are ignored;
        - otherwise the file's row order is kept with a ``RangeIndex``.

        Text columns other than the time axis are ignored. Rows where every numeric column is
        missing (empty, ``NA``, ``-``, ``NaN``, …) are dropped. ``DataFrame.attrs`` records
        how the file was read: ``encoding``, ``separator``, ``header``, ``time_column``,
        ``layout`` (``"long"`` or ``"wide"``), ``ignored_columns`` and ``dropped_rows``.

    Handles: a byte-order mark; UTF-8, UTF-16/32 with a BOM (UTF-16 without one if mostly
    ASCII), Windows-1252 and Latin-1 text; comma, semicolon, tab, ``|`` or whitespace
    separators (sniffed); decimal commas; thousands separators where unambiguous
    (``1,234.5``, ``1.234,5``); quoted fields; blank lines, ``#`` comment lines and title lines
    above the table; empty columns; a missing header row (columns named ``"column 1"`` …).

    Raises:
        ValueError (and never another exception) naming the problem: the file is over
        ``max_bytes`` (its size and the limit); it is empty or not text in any of the tried
        encodings; no numeric column (the columns found); a column that mixes numbers and
        text; a text column named like dates (date, time, month, year, day …) of which fewer
        than 80 % of the cells read as dates; fewer than ``MIN_ROWS`` rows left (how many);
        an infinite or missing value left in a row that has other numbers (the column and
        row); a value beyond float32's range, ±3.4e38 (the column, row and value); more than
        ``explorer.budget.MAX_CSV_ROWS`` lines, ``MAX_CSV_COLUMNS`` fields in a line or
        ``MAX_CSV_CELLS`` cells (checked before the table is parsed); a quoted field that is
        never closed.
    """
    try:
        return _read_series(source, max_bytes)
    except _Problem as problem:
        raise ValueError(str(problem)) from None
    except Exception as err:  # the promise: ValueError for any input, whatever breaks inside
        raise ValueError(f"could not read the file ({type(err).__name__}: {err})") from err


class _Problem(ValueError):
    """A problem with the file that this module recognised and explains; :func:`read_series`
    re-raises it as a plain ``ValueError``, and wraps anything unforeseen."""


def _read_series(source, max_bytes: int) -> pd.DataFrame:
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
        raise _Problem(f"max_bytes must be a positive whole number, got {max_bytes!r}")
    raw = _read_source(source, max_bytes)
    text, encoding = _decode(raw)
    lines = _data_lines(text)  # [(line number, text)]
    if not lines:
        raise _Problem("the file has no data: it is empty or holds only blank and # lines")
    _check_budget(len(lines), 1)  # rows first: the sniffer reads only the first 500 lines
    sep = _sniff_separator([line for _, line in lines[:500]])
    lines = _drop_title_lines(lines, sep)
    table, where = _parse_table(lines, sep)
    skip, header = _split_header(table, sep)
    table, where = table.iloc[skip:].reset_index(drop=True), where[skip:]
    names = _column_names(header, table.shape[1])
    if table.empty:
        raise _Problem(f"only 0 rows of data below the header; need at least {MIN_ROWS}")
    numbers = {j: _numbers(table[j], sep) for j in table.columns}
    info = {
        "encoding": encoding,
        "separator": None if sep == ONE_COLUMN else sep,
        "header": header is not None,
    }

    wide = _wide_table(table, names, numbers, where) if header is not None else None
    if wide is not None:
        values, index, where, ignored = wide
        info.update(layout="wide", time_column="year × month columns", ignored_columns=ignored)
        return _finish(values, index, where, info, index_name="date")

    time_col, index = _time_axis(table, names, numbers, where)
    used = set(time_col)
    values, ignored = {}, []
    for j in table.columns:
        if j in used:
            continue
        num = numbers[j]
        if num.kind == "numeric":
            values[names[j]] = num.values
        elif num.kind == "mixed":
            k = int(np.flatnonzero(num.bad)[0])
            raise _Problem(
                f"column {names[j]!r} mixes numbers with text: {where[k]} has "
                f"{table[j].iloc[k]!r} (leave the cell empty or write NA for a missing value)"
            )
        elif num.kind == "text":
            ignored.append(names[j])
    if not values:
        found = ", ".join(repr(names[j]) for j in table.columns) or "none"
        raise _Problem(f"no numeric column found (columns: {found})")
    info.update(
        layout="long",
        ignored_columns=ignored,
        time_column=", ".join(names[j] for j in time_col) or None,
    )
    index_name = names[time_col[0]] if len(time_col) == 1 else "date"
    return _finish(values, index, where, info, index_name=index_name)


# ---- bytes and text -------------------------------------------------------------------------


def _read_source(source, max_bytes: int) -> bytes | str:
    """The file's content, at most ``max_bytes`` (bytes, or str from a text stream)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        _check_size(len(data), max_bytes)
        return data
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            shown = str(path) if len(str(path)) <= 200 else str(path)[:200] + "…"
            raise _Problem(f"no file at {shown!r} (a str is a path; pass text as io.StringIO)")
        _check_size(path.stat().st_size, max_bytes)
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
        if len(data) > max_bytes:  # it grew since stat()
            raise _Problem(f"the file is more than {_size(max_bytes)}, the limit")
        return data
    if not callable(getattr(source, "read", None)):
        raise _Problem(f"expected a path or a file-like object, got {type(source).__name__}")
    seekable = callable(getattr(source, "seekable", None)) and source.seekable()
    if seekable:
        source.seek(0)
    size = getattr(source, "size", None)  # Streamlit's UploadedFile knows its size
    if isinstance(size, int) and not isinstance(size, bool):
        _check_size(size, max_bytes)
    data = source.read(max_bytes + 1)
    if isinstance(data, str):
        if len(data) > max_bytes:  # more characters than bytes allowed: too big in any encoding
            raise _Problem(f"the text is more than {_size(max_bytes)}, the limit")
        _check_size(len(data.encode("utf-8", "surrogatepass")), max_bytes)
        return data
    if not isinstance(data, (bytes, bytearray)):
        raise _Problem(
            f"the file object's read() gave {type(data).__name__}, expected bytes or str"
        )
    if len(data) > max_bytes:
        end = source.seek(0, io.SEEK_END) if seekable else None
        if isinstance(end, int) and end > max_bytes:
            _check_size(end, max_bytes)
        raise _Problem(f"the file is more than {_size(max_bytes)}, the limit")
    return bytes(data)


def _check_size(n: int, max_bytes: int) -> None:
    if n > max_bytes:
        raise _Problem(f"the file is {_size(n)}, over the limit of {_size(max_bytes)}")


def _size(n: int) -> str:
    return f"{n:,} bytes" if n < 100_000 else f"{n / 1e6:.1f} MB ({n:,} bytes)"


def _decode(data: bytes | str) -> tuple[str, str]:
    """Text and the encoding it was read with; ValueError if it is not text."""
    if not data:
        raise _Problem("the file is empty (0 bytes)")
    if isinstance(data, str):
        text, encoding = data, "text"
    else:
        text, encoding = _decode_bytes(data)
    text = text.lstrip("\ufeff")
    if "\x00" in text or _control_share(text) > 0.01:
        raise _Problem(f"the file is not text (it looks binary): tried {ENCODINGS}")
    return text, encoding


def _decode_bytes(data: bytes) -> tuple[str, str]:
    boms = [
        (b"\xff\xfe\x00\x00", "utf-32"),
        (b"\x00\x00\xfe\xff", "utf-32"),
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ]
    for bom, encoding in boms:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError:
                raise _Problem(
                    f"the file starts with a {encoding.upper()} byte-order mark "
                    f"but is not valid {encoding.upper()}"
                ) from None
    candidates = ["utf-8", "cp1252", "latin-1"]
    if len(data) % 2 == 0 and data.count(0) > len(data) // 4:  # ASCII as UTF-16, no BOM
        odd_zeros = data[1::2].count(0) > data[0::2].count(0)
        candidates.insert(0, "utf-16-le" if odd_zeros else "utf-16-be")
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text and _control_share(text) <= 0.01:
            return text, encoding
    raise _Problem(f"the file is not text (it looks binary): tried {ENCODINGS}")


def _control_share(text: str) -> float:
    """Share of characters that never appear in a text table (controls other than tab/newline)."""
    return len(_CONTROL.findall(text)) / len(text) if text else 0.0


def _data_lines(text: str) -> list[tuple[int, str]]:
    """Non-blank lines that are not ``#`` comments, with their 1-based line numbers."""
    lines = re.split(r"\r\n|\r|\n", text)
    return [
        (k, line)
        for k, line in enumerate(lines, start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]


# ---- separator and table --------------------------------------------------------------------


def _sniff_separator(sample: list[str]) -> str:
    """The delimiter that splits the sample lines into the same number (≥ 2) of fields most
    consistently; ties go to tab, then semicolon (decimal commas), then comma. Whitespace
    (``r"\\s+"``) if no delimiter splits the lines; ``","`` for a single column, or
    ``ONE_COLUMN`` for a single column of decimal-comma numbers below a header (``Wert``,
    ``1,5``, ``2,25`` …: a header without a comma says the commas are decimal)."""
    if (
        len(sample) >= 2
        and not re.search(r"[,;\t|]", sample[0])
        and all(_DECIMAL_COMMA.fullmatch(line.strip()) for line in sample[1:])
        and any("," in line for line in sample[1:])
    ):
        return ONE_COLUMN
    best, best_score = None, None
    for priority, sep in enumerate(_DELIMITERS):
        try:
            counts = [
                _width(row) for row in csv.reader(sample, delimiter=sep, skipinitialspace=True)
            ]
        except csv.Error:
            continue
        width, share = _mode_share(counts)
        if width >= 2:
            score = (share, -priority)
            if best_score is None or score > best_score:
                best, best_score = sep, score
    if best is not None:
        return best
    width, share = _mode_share([len(line.split()) for line in sample])
    return r"\s+" if width >= 2 and share >= 0.8 else ","


def _width(row: list[str]) -> int:
    """Number of fields up to the last non-empty one (trailing empty columns do not count)."""
    n = len(row)
    while n > 1 and not row[n - 1].strip():
        n -= 1
    return n


def _mode_share(counts: list[int]) -> tuple[int, float]:
    if not counts:
        return 0, 0.0
    width, n = Counter(counts).most_common(1)[0]
    return width, n / len(counts)


def _drop_title_lines(lines: list[tuple[int, str]], sep: str) -> list[tuple[int, str]]:
    """Drop lines above the table that do not contain the separator (a title, a source note)."""
    if sep == r"\s+":
        has_sep = [len(line.split()) > 1 for _, line in lines]
    else:
        has_sep = [(sep in line) for _, line in lines]
    if sum(has_sep) < len(lines) / 2:  # a single-column file: no title lines to tell apart
        return lines
    return lines[has_sep.index(True) :]


def _parse_table(lines: list[tuple[int, str]], sep: str) -> tuple[pd.DataFrame, list[str]]:
    """The lines as a DataFrame of stripped strings, columns ``0 … n-1``, rows that are empty in
    every column dropped; and for each row a label for messages (``"line 7"``)."""
    text = "\n".join(line for _, line in lines)
    if sep == r"\s+":
        width = max(len(line.split()) for _, line in lines)
    else:
        try:
            rows = csv.reader(io.StringIO(text), delimiter=sep, skipinitialspace=True)
            width = max(len(row) for row in rows)
        except csv.Error as err:
            raise _Problem(f"could not split the lines into columns at {sep!r}: {err}") from None
    _check_budget(len(lines), width)  # before pandas: its cost grows with every field
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = pd.read_csv(
                io.StringIO(text),
                sep=sep,
                header=None,
                names=range(width),
                index_col=False,
                dtype=str,
                na_filter=False,
                skipinitialspace=True,
                skip_blank_lines=True,
                engine="c",
            )
    except Exception as err:
        unclosed = re.search(r"EOF inside string starting at row (\d+)", str(err))
        if unclosed and int(unclosed[1]) < len(lines):
            raise _Problem(
                f"a quoted field opened on line {lines[int(unclosed[1])][0]} is "
                f'never closed (a " without its partner)'
            ) from None
        raise _Problem(
            f"could not split the lines into columns at {_sep_name(sep)}: {err}".strip()
        ) from None
    table = table.fillna("").astype(object)
    table = table.apply(lambda col: col.astype(str).str.strip())
    if len(table) == len(lines):
        where = [f"line {k}" for k, _ in lines]
    else:  # a quoted field spans lines: count rows instead
        where = [f"data row {k}" for k in range(1, len(table) + 1)]
    filled = table.ne("")
    rows, cols = filled.any(axis=1).to_numpy(), filled.any(axis=0).to_numpy()
    table = table.loc[rows, cols]
    where = [w for w, keep in zip(where, rows) if keep]
    if table.empty:
        raise _Problem("the file has no data: every cell is empty")
    table.columns = range(table.shape[1])
    return table.reset_index(drop=True), where


def _check_budget(rows: int, columns: int) -> None:
    try:
        check_csv(rows, columns)
    except ValueError as err:
        raise _Problem(str(err)) from None


def _sep_name(sep: str) -> str:
    return {
        "\t": "tabs",
        ";": "semicolons",
        ",": "commas",
        "|": "bars",
        r"\s+": "spaces",
        ONE_COLUMN: "line ends",
    }.get(sep, repr(sep))


# ---- numbers and header ---------------------------------------------------------------------


class _Numbers:
    """One column read as numbers: ``values`` (N,) float64 (NaN where missing or not a
    number), ``bad`` (N,) bool for cells that are neither, and the column's ``kind``:
    ``"numeric"``, ``"mixed"`` (mostly numbers, some text), ``"text"`` or ``"empty"``."""

    def __init__(self, values: np.ndarray, bad: np.ndarray, n_numbers: int):
        self.values, self.bad = values, bad
        n_bad = int(bad.sum())
        if n_numbers == 0:
            self.kind = "empty" if n_bad == 0 else "text"
        elif n_bad == 0:
            self.kind = "numeric"
        else:
            self.kind = "mixed" if n_numbers > n_bad else "text"


def _numbers(cells: pd.Series, sep: str) -> _Numbers:
    """Read a column of strings as numbers, choosing decimal point or decimal comma."""
    cells = cells.astype(str).str.replace("\u2212", "-", regex=False)  # Unicode minus
    lower = cells.str.lower()
    missing = lower.isin(MISSING).to_numpy()
    inf = lower.str.fullmatch(_INF).to_numpy(bool)
    point = cells.str.fullmatch(_POINT).to_numpy(bool) & ~missing
    comma = cells.str.fullmatch(_COMMA).to_numpy(bool) & ~missing
    use_comma = comma.sum() > point.sum() or (
        comma.sum() == point.sum()
        and sep != ","
        and cells.str.contains(",").any()
        and not cells.str.contains(r"\.").any()
    )
    if use_comma:
        text = cells.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        ok = comma
    else:
        ok, text = point, cells.str.replace(",", "", regex=False)
    values = np.full(len(cells), np.nan)
    if ok.any():
        values[ok] = pd.to_numeric(text[ok], errors="coerce").to_numpy(float)
    ok = ok & ~np.isnan(values)
    values[inf] = np.where(lower[inf].str.startswith("-"), -np.inf, np.inf)
    ok = ok | inf
    return _Numbers(values, ~(ok | missing), int(ok.sum()))


def _split_header(table: pd.DataFrame, sep: str) -> tuple[int, list[str] | None]:
    """How many rows the header takes and the header cells (``None`` if there is no header).

    Leading rows with no number and some text that is not a date are titles or the header:
    the last of them is the header. Otherwise the first row is the header if it holds text
    above a column of numbers. A row of dates and numbers or blanks is data."""
    k, most = 0, min(len(table), 10)  # titles and header fit in the first 10 rows
    while k < most and _is_text_row(table.iloc[k], sep):
        k += 1
    if k == most and k > 1:  # text only: keep the first row as names for the error message
        k = 1
    if k == 0 and len(table) >= 2:
        first = _numbers(table.iloc[0].reset_index(drop=True), sep)
        numeric_below = [_numbers(table[j].iloc[1:], sep).kind == "numeric" for j in table.columns]
        if any(first.bad & np.array(numeric_below)):
            k = 1
    return k, (list(table.iloc[k - 1]) if k else None)


def _is_text_row(row: pd.Series, sep: str) -> bool:
    """No number in the row, and a cell of text that is not a date."""
    num = _numbers(row.reset_index(drop=True), sep)
    if not num.bad.any() or (~np.isnan(num.values)).any():
        return False
    text = row.reset_index(drop=True)[num.bad].reset_index(drop=True)
    return _dates(text)[1] < len(text)


def _column_names(header: list[str] | None, width: int) -> dict[int, str]:
    names, seen = {}, Counter()
    for j in range(width):
        name = (header[j] if header is not None else "") or f"column {j + 1}"
        seen[name] += 1
        names[j] = name if seen[name] == 1 else f"{name} ({seen[name]})"
    return names


# ---- time axis ------------------------------------------------------------------------------


def _words(name: str) -> set[str]:
    return set(re.findall(r"[a-z]+", name.lower()))


def _dates(cells: pd.Series) -> tuple[pd.Series, int]:
    """Cells read as datetimes (NaT where not), trying month-first and day-first orders and,
    for mixed formats, one format per cell; and how many cells were read. Cells without a digit
    are never dates (``"Jan"`` alone is not)."""
    candidate = cells.ne("") & ~cells.str.lower().isin(MISSING) & cells.str.contains(r"\d")
    best = pd.Series(pd.NaT, index=cells.index, dtype="datetime64[s]"), 0
    if not candidate.any():
        return best
    day_first = bool(_DAY_FIRST.match(cells[candidate].iloc[0]))  # preferred on a tie
    tries = [{"dayfirst": day_first}, {"dayfirst": not day_first}]
    for kwargs in tries:
        parsed = _to_datetime(cells[candidate], **kwargs)
        n = int(parsed.notna().sum())
        better = n > best[1] or (
            n == best[1]
            and n > 0
            and parsed.dropna().is_monotonic_increasing
            and not best[0].dropna().is_monotonic_increasing
        )
        if better:
            best = parsed.reindex(cells.index), n
    if best[1] < DATE_SHARE * candidate.sum():  # mixed formats: parse cell by cell
        sample = cells[candidate].iloc[:200]
        if _to_datetime(sample, format="mixed").notna().mean() >= DATE_SHARE:
            parsed = _to_datetime(cells[candidate], format="mixed")
            if parsed.notna().sum() > best[1]:
                best = parsed.reindex(cells.index), int(parsed.notna().sum())
    return best


def _to_datetime(cells: pd.Series, **kwargs) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parsed = pd.to_datetime(cells, errors="coerce", **kwargs)
        except (ValueError, TypeError, OverflowError):  # e.g. mixed time zones
            try:
                parsed = pd.to_datetime(cells, errors="coerce", utc=True, **kwargs)
            except (ValueError, TypeError, OverflowError):
                return pd.Series(pd.NaT, index=cells.index, dtype="datetime64[s]")
    if not pd.api.types.is_datetime64_any_dtype(parsed):
        return pd.Series(pd.NaT, index=cells.index, dtype="datetime64[s]")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed.where(parsed.dt.year.between(1, 9999))  # NaT beyond 4-digit years


def _time_axis(table, names, numbers, where) -> tuple[list[int], pd.Series | None]:
    """The columns that make the time axis and the (N,) datetimes they give, or ``([], None)``.

    In order: the first text column whose cells mostly read as dates; integer ``year`` (+
    ``month`` (+ ``day``)) columns. A text column named like a date (``TIME_WORDS``) whose
    cells mostly are not dates is an error when no time axis is found."""
    misnamed = None
    for j in table.columns:
        if numbers[j].kind not in ("text", "mixed"):
            continue
        present = table[j].ne("") & ~table[j].str.lower().isin(MISSING)
        parsed, n = _dates(table[j])
        if present.sum() and n >= DATE_SHARE * present.sum():
            return [j], parsed
        if misnamed is None and _words(names[j]) & TIME_WORDS and numbers[j].kind == "text":
            k = int(np.flatnonzero(present.to_numpy() & parsed.isna().to_numpy())[0])
            misnamed = j, n, int(present.sum()), k
    ymd = _year_month_day(table, names, numbers)
    if ymd is not None:
        return ymd
    if misnamed is not None:
        j, n, present, k = misnamed
        raise _Problem(
            f"column {names[j]!r} looks like dates by its name, but only {n} of "
            f"its {present} cells read as dates ({where[k]} has "
            f"{table[j].iloc[k]!r})"
        )
    return [], None


def _integer_column(num: _Numbers, lo: int, hi: int) -> bool:
    v = num.values[~np.isnan(num.values)]
    return (
        num.kind == "numeric"
        and len(v) > 0
        and bool(np.all(np.isfinite(v)))
        and bool(np.all(v == np.round(v)))
        and lo <= v.min()
        and v.max() <= hi
    )


def _year_month_day(table, names, numbers):
    """Integer year (+ month, as a number or a name (+ day)) columns as datetimes."""

    def find(words, lo, hi, allow_names=False):
        for j in table.columns:
            if _words(names[j]) & words:
                if _integer_column(numbers[j], lo, hi):
                    return j, numbers[j].values
                if allow_names:
                    months = table[j].str.lower().str.rstrip(".").map(MONTHS)
                    if months.notna().sum() >= DATE_SHARE * table[j].ne("").sum() > 0:
                        return j, months.to_numpy(float)
        return None

    year = find({"year", "yr"}, 1000, 9999)
    if year is None:
        return None
    month = find({"month", "mon"}, 1, 12, allow_names=True)
    day = find({"day"}, 1, 31) if month is not None else None
    parts = [year] + [p for p in (month, day) if p is not None]
    ymd = [p[1] for p in parts] + [np.ones(len(table))] * (3 - len(parts))
    return [p[0] for p in parts], _dates_from_parts(*ymd)


def _dates_from_parts(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> pd.Series:
    """(N,) datetimes from float arrays of year, month, day (NaT where any is missing or the
    date does not exist)."""
    ok = ~(np.isnan(year) | np.isnan(month) | np.isnan(day))
    text = np.full(len(year), "", dtype=object)
    text[ok] = [
        f"{int(y):04d}-{int(m):02d}-{int(d):02d}" for y, m, d in zip(year[ok], month[ok], day[ok])
    ]
    return _to_datetime(pd.Series(text), format="%Y-%m-%d")


def _wide_table(table, names, numbers, where):
    """A Year × Jan … Dec table melted into one monthly series, or None if not that shape."""
    months = {}
    for j in table.columns:
        m = MONTHS.get(names[j].strip().lower().rstrip("."))
        if m is not None and m not in months:
            months[m] = j
    if len(months) != 12:
        return None
    year_cols = [
        j
        for j in table.columns
        if _words(names[j]) & {"year", "yr"} and _integer_column(numbers[j], 1000, 9999)
    ]
    first = table.columns[0]
    if (
        not year_cols
        and first not in months.values()
        and _integer_column(numbers[first], 1000, 9999)
    ):
        year_cols = [first]
    if not year_cols:
        return None
    for m in range(1, 13):
        num = numbers[months[m]]
        if num.kind == "mixed" or num.kind == "text":
            k = int(np.flatnonzero(num.bad)[0])
            raise _Problem(
                f"month column {names[months[m]]!r} holds text: {where[k]} has "
                f"{table[months[m]].iloc[k]!r} (leave the cell empty or write NA)"
            )
    years = numbers[year_cols[0]].values  # (N,)
    values = np.stack([numbers[months[m]].values for m in range(1, 13)], axis=1)  # (N, 12)
    n = len(table)
    index = _dates_from_parts(
        np.repeat(years, 12), np.tile(np.arange(1.0, 13.0), n), np.ones(12 * n)
    )
    month_names = [k.title() for k, v in MONTHS.items() if len(k) == 3]
    labels = [f"{w}, {month_names[m]}" for w in where for m in range(12)]
    ignored = [
        names[j]
        for j in table.columns
        if j not in months.values() and j != year_cols[0] and numbers[j].kind != "empty"
    ]
    return {"value": values.reshape(-1)}, index, labels, ignored


# ---- clean rows -----------------------------------------------------------------------------


def _finish(
    values: dict[str, np.ndarray],
    index: pd.Series | None,
    where: list[str],
    info: dict,
    index_name: str = "date",
) -> pd.DataFrame:
    """Drop empty rows and rows without a time stamp, check what is left, sort by time."""
    frame = pd.DataFrame(values)  # (N, C)
    keep = frame.notna().any(axis=1).to_numpy()
    if index is not None:
        keep = keep & index.notna().to_numpy()
    n_before = len(frame)
    frame = frame.loc[keep].astype(np.float64)
    where = [w for w, k in zip(where, keep) if k]
    if index is not None:
        index = index[keep]
    if len(frame) < MIN_ROWS:
        what = "with numbers" if index is None else "with numbers and a readable time stamp"
        raise _Problem(
            f"only {len(frame)} row{'s' * (len(frame) != 1)} {what} after "
            f"cleaning; need at least {MIN_ROWS}"
        )
    finite = np.isfinite(frame.to_numpy())  # (N, C)
    if not finite.all():
        r, c = np.argwhere(~finite)[0]
        value, label = frame.iat[r, c], where[r]
        if index is not None:
            label += f" ({index.iloc[r].isoformat(sep=' ')})".replace(" 00:00:00)", ")")
        what = "a missing value" if np.isnan(value) else f"a non-finite value ({value})"
        raise _Problem(
            f"column {frame.columns[c]!r} has {what} at {label}; every value "
            f"must be a finite number where other columns have numbers"
        )
    large = np.abs(frame.to_numpy()) > MAX_MAGNITUDE  # (N, C)
    if large.any():
        r, c = np.argwhere(large)[0]
        raise _Problem(
            f"column {frame.columns[c]!r} has {frame.iat[r, c]:g} at {where[r]}, "
            f"beyond ±{MAX_MAGNITUDE:.1e}, the range of the float32 numbers the "
            f"models compute in: rescale the column (e.g. to thousands)"
        )
    if index is None:
        frame = frame.reset_index(drop=True)
    else:
        frame.index = pd.DatetimeIndex(index.to_numpy(), name=index_name)
        frame = frame.sort_index(kind="stable")
    frame.attrs.update(info, dropped_rows=n_before - len(frame))
    return frame


# --------------------------------------------------------------------------- choosing a series

ROW_ORDER = "(row order)"  # the time axis of a file without one: the rows as they come


def time_columns(frame: pd.DataFrame) -> list[str]:
    """The columns of a :func:`explorer.read_series` table that can serve as its time axis, the
    likeliest first: the time stamps it found (its ``DatetimeIndex``, by the index's name),
    then each numeric column whose values are all distinct (a year, a day number; the rows are
    sorted by it), then ``ROW_ORDER``."""
    names = []
    if isinstance(frame.index, pd.DatetimeIndex):
        names.append(str(frame.index.name or "date"))
    names += [str(c) for c in frame.columns if frame[c].is_unique]
    return names + [ROW_ORDER]


def value_columns(frame: pd.DataFrame, time: str) -> list[str]:
    """The numeric columns that can be forecast when ``time`` is the time axis (all but it)."""
    return [str(c) for c in frame.columns if str(c) != time]


def series_from_frame(frame: pd.DataFrame, time: str, value: str) -> pd.Series:
    """Column ``value`` of a :func:`explorer.read_series` table as a float ``pandas.Series`` in
    the order of the time axis ``time`` (one of :func:`time_columns`), indexed by it: the
    table's dates, the numbers of a numeric column (rows sorted by it, ties kept in file
    order), or positions 0 … N-1 for ``ROW_ORDER``.

    Raises:
        ValueError: ``time`` or ``value`` is not a column of the table, or they are the same.
    """
    columns = [str(c) for c in frame.columns]
    if time not in time_columns(frame):
        raise ValueError(f"the time axis must be one of {time_columns(frame)}, got {time!r}")
    if value not in columns:
        raise ValueError(f"the value column must be one of {columns}, got {value!r}")
    if value == time:
        raise ValueError(f"the column {value!r} cannot be both the time axis and the values")
    values = frame[frame.columns[columns.index(value)]].to_numpy(np.float64)  # (N,)
    if time == ROW_ORDER:
        return pd.Series(values, index=pd.RangeIndex(len(values), name="row"), name=value)
    if time in columns:
        stamps = frame[frame.columns[columns.index(time)]].to_numpy(np.float64)  # (N,)
        order = np.argsort(stamps, kind="stable")
        return pd.Series(values[order], index=pd.Index(stamps[order], name=time), name=value)
    order = np.argsort(frame.index.to_numpy(), kind="stable")  # read_series sorts; be sure
    return pd.Series(values[order], index=frame.index[order], name=value)
