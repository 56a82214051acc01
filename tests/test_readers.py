"""read_series: messy real-world CSVs in, a clean float table in time order out, ValueError
(and nothing else) for anything it cannot use."""

import io
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from explorer import readers
from explorer.readers import read_series

DATA = Path(__file__).resolve().parent / "data"


def check_clean(df: pd.DataFrame) -> None:
    """The promise for any returned frame: float64 columns, finite, ≥ 3 rows, time order."""
    assert isinstance(df, pd.DataFrame) and len(df) >= readers.MIN_ROWS and df.shape[1] >= 1
    assert all(dtype == np.float64 for dtype in df.dtypes)
    assert np.isfinite(df.to_numpy()).all()
    if isinstance(df.index, pd.DatetimeIndex):
        assert df.index.is_monotonic_increasing
    else:
        assert isinstance(df.index, pd.RangeIndex) and df.index[0] == 0


# ---- well-formed files ----------------------------------------------------------------------


def test_simple_date_value():
    df = read_series(DATA / "simple.csv")
    check_clean(df)
    assert list(df.columns) == ["value"] and df.index.name == "date"
    assert df.index[0] == pd.Timestamp("2021-01-01") and len(df) == 5
    np.testing.assert_array_equal(df["value"], [1.5, 2.0, -0.5, 3.25, 4.0])
    assert df.attrs["separator"] == "," and df.attrs["header"] and df.attrs["layout"] == "long"


def test_semicolon_decimal_comma_bom_day_first():
    df = read_series(DATA / "semicolon_decimal_comma_bom.csv")
    check_clean(df)
    assert list(df.columns) == ["Temperatur", "Niederschlag"]  # no BOM left in the name
    assert df.index.name == "Datum" and df.attrs["separator"] == ";"
    assert list(df.index) == [
        pd.Timestamp(d) for d in ("2021-01-30", "2021-01-31", "2021-02-01", "2021-02-13")
    ]
    np.testing.assert_array_equal(df["Temperatur"], [3.5, -2.25, 0.5, 10.0])
    np.testing.assert_array_equal(df["Niederschlag"], [1234.5, 0.0, 12.75, 2000.0])


def test_tab_separated_without_dates_keeps_row_order():
    df = read_series(DATA / "tab_separated.tsv")
    check_clean(df)
    assert df.attrs["separator"] == "\t" and list(df.columns) == ["time", "x", "y"]
    assert isinstance(df.index, pd.RangeIndex)
    np.testing.assert_allclose(df["x"], [0.1, 0.2, 0.3, 0.4])


def test_utf16_with_bom():
    df = read_series(DATA / "utf16.csv")
    check_clean(df)
    assert df.attrs["encoding"] == "utf-16" and list(df.columns) == ["temperature °C"]
    np.testing.assert_array_equal(df.iloc[:, 0], [5.5, 6.0, 4.5])


def test_utf16_without_bom_and_utf32():
    text = "date,value\n2021-01-01,1\n2021-01-02,2\n2021-01-03,3\n"
    for encoding in ("utf-16-le", "utf-16-be", "utf-32"):
        df = read_series(io.BytesIO(text.encode(encoding)))
        np.testing.assert_array_equal(df["value"], [1, 2, 3])


def test_latin1_header_and_decimal_comma():
    df = read_series(DATA / "latin1.csv")
    check_clean(df)
    assert list(df.columns) == ["Température (°C)"] and df.index.name == "Zeit"
    np.testing.assert_array_equal(df.iloc[:, 0], [1.5, 2.5, 3.5])


def test_wide_year_by_month_table_is_melted():
    df = read_series(DATA / "wide_monthly.csv")
    check_clean(df)
    assert list(df.columns) == ["value"] and df.index.name == "date"
    assert df.attrs["layout"] == "wide" and df.attrs["ignored_columns"] == ["Annual"]
    assert len(df) == 26  # 1990, 1991 complete; 1992 Jan, Feb (March "***", the rest empty)
    assert df.index[0] == pd.Timestamp("1990-01-01")
    assert df.index[-1] == pd.Timestamp("1992-02-01")
    assert (df.index.day == 1).all()
    np.testing.assert_array_equal(df["value"], np.arange(1, 27))


@pytest.mark.parametrize(
    "header",
    [
        "year,JANUARY,february,March,apr,MAY,june,jul,AUG,sept,Oct,november,dec",
        "YR,jan,feb,mar,apr,may,jun,jul,aug,sep,oct,nov,dec",
    ],
)
def test_wide_table_month_names_any_case_and_length(header):
    rows = "\n".join(
        f"{y}," + ",".join(str(y + m / 100) for m in range(1, 13)) for y in (2000, 2001)
    )
    df = read_series(io.StringIO(header + "\n" + rows + "\n"))
    assert len(df) == 24 and df.index[13] == pd.Timestamp("2001-02-01")
    assert df["value"].iloc[13] == pytest.approx(2001.02)


def test_no_header_names_columns():
    df = read_series(DATA / "no_header.csv")
    check_clean(df)
    assert list(df.columns) == ["column 1", "column 2"] and not df.attrs["header"]
    np.testing.assert_array_equal(df["column 2"], [10, 20, 30, 40])


def test_blank_lines_and_trailing_empty_column():
    df = read_series(DATA / "blank_lines_trailing_column.csv")
    check_clean(df)
    assert list(df.columns) == ["value"] and len(df) == 3


def test_unsorted_dates_are_sorted_and_duplicates_kept():
    df = read_series(DATA / "unsorted_dates.csv")
    check_clean(df)
    assert list(df.index.strftime("%d")) == ["01", "02", "02", "03"]
    np.testing.assert_array_equal(df["value"], [1, 2, 20, 3])  # stable: file order within a day


def test_year_month_columns_and_comment_lines():
    df = read_series(DATA / "year_month_comments.csv")
    check_clean(df)
    assert list(df.columns) == ["decimal date", "average"]
    assert df.index[0] == pd.Timestamp("1958-03-01") and df.index.name == "date"
    assert df.attrs["time_column"] == "year, month"


def test_quoted_fields_with_thousands_separators():
    df = read_series(DATA / "quoted_thousands.csv")
    check_clean(df)
    np.testing.assert_array_equal(df["sales, usd"], [1234.5, 12000.0, 999.25])


def test_missing_rows_dropped_and_title_line_skipped():
    text = (
        "Monthly rainfall at a made-up station\n\nmonth,rain mm\n2021-01,NA\n2021-02,3\n"
        "2021-03,-\n2021-04,NaN\n2021-05,4\n2021-06,5\n2021-07,\n"
    )
    df = read_series(io.StringIO(text))
    assert len(df) == 3 and df.index.name == "month" and df.attrs["dropped_rows"] == 4
    np.testing.assert_array_equal(df["rain mm"], [3, 4, 5])


def test_text_columns_other_than_time_are_ignored():
    df = read_series(
        io.StringIO("date,weather,temp\n2021-01-01,sun,1\n2021-01-02,rain,2\n2021-01-03,snow,3\n")
    )
    assert list(df.columns) == ["temp"] and df.attrs["ignored_columns"] == ["weather"]


def test_decimal_comma_against_thousands_comma():
    # "1,234" alone is ambiguous: decimal comma after ";" (European), thousands after ","
    semi = read_series(io.StringIO("a;b\n1,234;1\n2,5;2\n3;3\n"))
    np.testing.assert_allclose(semi["a"], [1.234, 2.5, 3])
    comma = read_series(io.StringIO('a,b\n"1,234",1\n"2,000",2\n3,3\n'))
    np.testing.assert_allclose(comma["a"], [1234, 2000, 3])


@pytest.mark.parametrize(
    "text,column,values,first",
    [
        # one column of decimal-comma numbers: a header without a comma says the commas are decimal
        ("Wert\n1,5\n2,25\n-3\n", "Wert", [1.5, 2.25, -3], None),
        # dd.mm.yyyy is day first even when every day is <= 12
        ("Datum;Wert\n01.02.2021;1\n02.02.2021;2\n03.02.2021;3\n", "Wert", [1, 2, 3], "2021-02-01"),
        # slashes: month first unless a day > 12 says otherwise
        (
            "Date,Close\n1/2/2021,10\n1/3/2021,11\n1/13/2021,12\n",
            "Close",
            [10, 11, 12],
            "2021-01-02",
        ),
        (
            "Date,Close\n02/01/2021,10\n03/01/2021,11\n13/01/2021,12\n",
            "Close",
            [10, 11, 12],
            "2021-01-02",
        ),
        # mixed UTC offsets are converted to UTC
        (
            "t,v\n2021-01-01T00:00+01:00,1\n2021-06-01T00:00+02:00,2\n2021-07-01T00:00Z,3\n",
            "v",
            [1, 2, 3],
            "2020-12-31 23:00",
        ),
        ("a|b\n1|2\n3|4\n5|6\n", "b", [2, 4, 6], None),
        ("year month value\n2000 1 5\n2000 2 6\n2000 3 7\n", "value", [5, 6, 7], "2000-01-01"),
        # a footer row without a readable date is dropped
        (
            "date,v\n2021-01-01,1\n2021-01-02,2\n2021-01-03,3\n2021-01-04,4\nTotal,10\n",
            "v",
            [1, 2, 3, 4],
            "2021-01-01",
        ),
        ("v\n\u22121.5\n2\n+3\n", "v", [-1.5, 2, 3], None),  # Unicode minus, explicit plus
        ("Year,v\n1990,1\n1991,2\n1992,3\n", "v", [1, 2, 3], "1990-01-01"),
    ],
)
def test_more_layouts(text, column, values, first):
    df = read_series(io.StringIO(text))
    check_clean(df)
    np.testing.assert_allclose(df[column], values)
    if first is None:
        assert isinstance(df.index, pd.RangeIndex)
    else:
        assert df.index[0] == pd.Timestamp(first)


def test_text_only_file_is_quick_and_lists_columns():
    text = "name,colour\n" + "ann,red\n" * 20_000
    with pytest.raises(ValueError, match=r"no numeric column found \(columns: 'name', 'colour'\)"):
        read_series(io.StringIO(text))


def test_date_named_column_of_weekdays_is_an_error():
    with pytest.raises(ValueError, match=r"column 'day' looks like dates .*\(line 2 has 'Mon'\)"):
        read_series(io.StringIO("day,v\nMon,1\nTue,2\nWed,3\n"))


def test_source_kinds():
    data = (DATA / "simple.csv").read_bytes()

    class Uploaded(io.BytesIO):  # like Streamlit's UploadedFile: knows its size, maybe read
        size = len(data)

    uploaded = Uploaded(data)
    uploaded.read()  # a page may have read it already
    sources = [
        str(DATA / "simple.csv"),
        DATA / "simple.csv",
        io.BytesIO(data),
        data,
        io.StringIO(data.decode()),
        uploaded,
    ]
    frames = [read_series(s) for s in sources]
    for df in frames[1:]:
        pd.testing.assert_frame_equal(df, frames[0])


# ---- malformed files ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,match",
    [
        ("no_numeric.csv", r"no numeric column found \(columns: 'name', 'colour'\)"),
        ("two_rows.csv", r"only 2 rows .* need at least 3"),
        (
            "inf_value.csv",
            r"column 'value' has a non-finite value \(inf\) at line 3 \(2021-01-02\)",
        ),
        ("empty.csv", r"the file is empty"),
        ("garbage.bin", r"not text .*tried UTF-8, UTF-16"),
        ("bad_dates.csv", r"column 'date' looks like dates .* only 0 of its 3 cells .*'banana'"),
        ("mixed_text.csv", r"column 'value' mixes numbers with text: line 3 has 'abc'"),
        ("partial_missing.csv", r"column 'a' has a missing value at line 3"),
    ],
)
def test_malformed_files_raise_value_error_saying_why(name, match):
    with pytest.raises(ValueError, match=match):
        read_series(DATA / name)


@pytest.mark.parametrize(
    "source,match",
    [
        (io.BytesIO(b""), "the file is empty"),
        (io.StringIO("\n  \n# only a comment\n"), "no data"),
        (io.StringIO("date,value\n"), "only 0 rows"),
        (io.StringIO('a,b\n1,2\n3,"4\n5,6\n'), r"quoted field opened on line 3 is never closed"),
        (io.BytesIO(b"\xff\xfe\x00\xd8"), "UTF-16 byte-order mark but is not valid"),
        (io.BytesIO(b"value\n1\n\x00\x01\x02\x03"), "not text"),
        ("/no/such/file.csv", "no file at '/no/such/file.csv'"),
        (42, "expected a path or a file-like object, got int"),
    ],
)
def test_other_malformed_sources(source, match):
    with pytest.raises(ValueError, match=match):
        read_series(source)


def test_size_limit_names_size_and_limit():
    path = DATA / "wide_monthly.csv"
    size = path.stat().st_size
    assert size > 100
    for source in (path, str(path), io.BytesIO(path.read_bytes()), path.read_bytes()):
        with pytest.raises(
            ValueError, match=f"the file is {size} bytes, over the limit of 100 bytes"
        ):
            read_series(source, max_bytes=100)

    class Pipe(io.RawIOBase):  # a stream that cannot tell its size
        def __init__(self):
            self.left = path.read_bytes()

        def readable(self):
            return True

        def readinto(self, buffer):
            n = min(len(buffer), len(self.left))
            buffer[:n], self.left = self.left[:n], self.left[n:]
            return n

    with pytest.raises(ValueError, match="the file is more than 100 bytes, the limit"):
        read_series(io.BufferedReader(Pipe()), max_bytes=100)
    with pytest.raises(ValueError, match=r"6.0 MB \(6,000,000 bytes\), over the limit of 5.0 MB"):
        read_series(io.BytesIO(b"1\n" * 3_000_000))
    with pytest.raises(ValueError, match="max_bytes must be a positive"):
        read_series(DATA / "simple.csv", max_bytes=0)


def test_unforeseen_failures_become_value_error(monkeypatch):
    def broken(_):
        raise KeyError("boom")

    monkeypatch.setattr(readers, "_decode", broken)
    with pytest.raises(ValueError, match=r"could not read the file \(KeyError: 'boom'\)"):
        read_series(DATA / "simple.csv")

    class Unreadable(io.RawIOBase):
        def read(self, n=-1):
            raise OSError("disk on fire")

    with pytest.raises(ValueError, match="OSError: disk on fire"):
        read_series(Unreadable())


def _mutate(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(b) + 1)
        op = rng.random()
        if op < 0.3 and b:
            del b[i % len(b)]
        elif op < 0.6:
            b.insert(i, rng.choice(b",;\t\n\r\"'.-e0123456789 \xff\x00NAinf#"))
        elif op < 0.8 and b:
            b[i % len(b)] = rng.randrange(256)
        else:
            b[i:i] = b[rng.randrange(len(b) + 1) :][: rng.randint(0, 20)]  # repeat a piece
    return bytes(b)


def test_fuzz_returns_clean_frame_or_value_error():
    rng = random.Random(1234)
    good = [
        (DATA / name).read_bytes()
        for name in (
            "simple.csv",
            "semicolon_decimal_comma_bom.csv",
            "wide_monthly.csv",
            "utf16.csv",
            "no_header.csv",
            "year_month_comments.csv",
            "quoted_thousands.csv",
        )
    ]
    outcomes = {"frame": 0, "error": 0}
    for k in range(200):
        data = rng.randbytes(rng.randint(0, 400)) if k % 4 == 0 else _mutate(rng.choice(good), rng)
        try:
            df = read_series(io.BytesIO(data))
        except ValueError as err:
            assert str(err), data
            outcomes["error"] += 1
        else:  # any other exception fails the test
            check_clean(df)
            outcomes["frame"] += 1
    assert outcomes["frame"] > 20 and outcomes["error"] > 50  # both paths were exercised


# ---------------------------------------------------------------- magnitudes and sizes
@pytest.mark.parametrize(
    "text, where",
    [
        ("x,y\n1,1e300\n2,-1e300\n3,5\n", "column 'y' has 1e+300 at line 2"),
        ("v\n1\n2\n-3.5e38\n", "column 'v' has -3.5e+38 at line 4"),
    ],
)
def test_values_beyond_float32_are_refused_with_column_line_and_value(text, where):
    with pytest.raises(ValueError, match="beyond ±3.4e\\+38") as err:
        read_series(text.encode())
    assert where in str(err.value)


def test_the_largest_float32_value_is_kept():
    frame = read_series(b"v\n1\n2\n3.4e38\n")
    assert frame["v"].tolist() == [1.0, 2.0, 3.4e38]


@pytest.mark.parametrize(
    "text, match",
    [
        (",".join(["1"] * 2_000_000), "a line of the file has 2,000,000 fields; the limit is 200"),
        ("\n".join([";".join(["1"] * 201)] * 4), "has 201 fields; the limit is 200"),
        ("v\n" + "1\n" * 1_000_001, "the file has 1,000,002 lines; the limit is 1,000,000"),
        ("\n".join([",".join(["1"] * 150)] * 15_000), "2,250,000 cells; the limit is 2,000,000"),
    ],
)
def test_too_many_fields_or_rows_are_refused_before_parsing(text, match):
    with pytest.raises(ValueError, match=match):
        read_series(text.encode())  # the 2,000,000-field line took 13 minutes and 12.8 GB


def test_a_table_at_the_caps_is_read():
    from explorer.budget import MAX_CSV_COLUMNS

    frame = read_series("\n".join([",".join(["1.5"] * MAX_CSV_COLUMNS)] * 4).encode())
    assert frame.shape == (4, MAX_CSV_COLUMNS)


# ------------------------------------------------------------------ choosing a series


def test_csv_time_axis_choices_and_series_order():
    from explorer import read_series
    from explorer.readers import ROW_ORDER, series_from_frame, time_columns, value_columns

    frame = read_series(Path(__file__).parent / "data" / "semicolon_decimal_comma_bom.csv")
    assert time_columns(frame)[0] == "Datum" and time_columns(frame)[-1] == ROW_ORDER
    assert value_columns(frame, "Datum") == ["Temperatur", "Niederschlag"]
    s = series_from_frame(frame, "Datum", "Niederschlag")
    assert s.index.is_monotonic_increasing and s.iloc[0] == 1234.5  # 1.234,5 on 30.01.2021
    # a numeric column as the time axis: rows sorted by it, its values as the index
    table = pd.DataFrame({"year": [2003.0, 2001.0, 2002.0], "temp": [3.0, 1.0, 1.0]})
    assert time_columns(table) == ["year", ROW_ORDER]  # temp repeats a value: not a time axis
    s = series_from_frame(table, "year", "temp")
    assert list(s.index) == [2001.0, 2002.0, 2003.0] and list(s) == [1.0, 1.0, 3.0]
    s = series_from_frame(table, ROW_ORDER, "temp")
    assert list(s) == [3.0, 1.0, 1.0] and list(s.index) == [0, 1, 2]
    for time, value, match in [
        ("year", "year", "both"),
        ("temp", "year", "time axis"),
        ("year", "rain", "value column"),
    ]:
        with pytest.raises(ValueError, match=match):
            series_from_frame(table, time, value)
