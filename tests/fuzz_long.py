"""The fuzz properties of tests/test_fuzz.py with many more examples (not collected by pytest:
run ``python tests/fuzz_long.py``; extra arguments go to pytest, e.g. ``-k csv``)."""

import os
import sys
from pathlib import Path

import pytest

if __name__ == "__main__":
    os.environ["RNN_EXPLORER_FUZZ"] = "long"
    here = Path(__file__).resolve().parent
    sys.exit(
        pytest.main([str(here / "test_fuzz.py"), "-q", "-p", "no:cacheprovider", *sys.argv[1:]])
    )
