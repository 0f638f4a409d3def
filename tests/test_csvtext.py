"""CSV lines (hivetool.csvtext): what the csv module writes, except that a carriage return
is quoted, so that every line reads back as the row it was."""
from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from hivetool.csvtext import line

cells = st.lists(st.none() | st.integers() | st.text(), max_size=8)


def read_back(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def as_csv_module_writes(values: list) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()


@settings(max_examples=500, deadline=None)
@given(cells)
def test_every_line_reads_back_as_its_row(values):
    shown = ["" if value is None else str(value) for value in values]
    assert read_back(line(values)) == [shown]


@settings(max_examples=500, deadline=None)
@given(cells.filter(lambda values: not any(isinstance(v, str) and "\r" in v for v in values)))
def test_without_carriage_returns_it_is_what_the_csv_module_writes(values):
    assert line(values) == as_csv_module_writes(values)


def test_a_carriage_return_is_quoted():
    assert line(["first\r\nsecond", 'say "x"', 7, None]) == '"first\r\nsecond","say ""x""",7,\n'
    assert read_back(line(["a\rb", "c"])) == [["a\rb", "c"]]
