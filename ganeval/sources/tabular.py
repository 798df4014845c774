"""Tabular inputs: ``.csv`` files, DataFrame-like objects, and real/fake pairs read together.

A CSV has a header row and one row per sample. Columns are numeric unless named as
categorical, which one-hot encodes them (one 0/1 column ``NAME=VALUE`` per category).
Rules:

- a missing value (an empty cell, ``NA``, ``NaN``, ``null``, ``None``, ``n/a``) in a used
  column is an error naming the row and column, unless ``skip_invalid=True``, which drops
  the rows that have one (the count is kept in the source's metadata);
- a non-numeric column that is not categorical is an error naming it;
- ``columns`` selects (and orders) the columns used; by default all of them;
- categories are fitted on the *real* data and applied unchanged to the fake data
  (:func:`load_table_pair`): a fake value never seen in the real data becomes an all-zero
  row in that column's block (and a warning), so the two arrays always have the same
  columns in the same order;
- real and fake must hold the same columns (matched by name, any order); an input without
  names (``.npy``, a plain array) is matched by position.

``.npy``/``.npz`` inputs and built-in sets (``builtin:wine/train``, ``builtin:breast_cancer/test``,
with their ``target`` column) are read through :func:`ganeval.sources.open_source`.
"""

from __future__ import annotations

import csv
import math
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import show
from ..errors import DataError, InputError, ParameterError
from .base import ArraySource

__all__ = [
    "Table",
    "read_table",
    "read_csv_table",
    "table_from_frame",
    "TableEncoder",
    "open_csv",
    "frame_source",
    "load_table_pair",
    "load_labelled_tables",
    "TablePair",
    "LabelledTable",
]

MISSING = frozenset({"", "na", "nan", "null", "none", "n/a", "?"})


@dataclass
class Table:
    """Columns read from one input: float64 arrays (numeric) or object arrays (text).

    Missing values are NaN in numeric columns and None in text columns. ``named`` is False
    for inputs without column names (arrays), whose columns are called ``x0, x1, ...``.
    """

    name: str
    columns: list[str]
    data: dict[str, np.ndarray]
    named: bool = True
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        return int(next(iter(self.data.values())).shape[0]) if self.data else 0

    def missing(self, column: str) -> np.ndarray:
        """Boolean mask of the rows whose value in ``column`` is missing."""
        col = self.data[column]
        if col.dtype == object:
            return np.array([v is None for v in col], dtype=bool)
        return np.isnan(col)


def _split_names(value: str | Sequence[str] | None, option: str) -> list[str] | None:
    if value is None:
        return None
    names = [v.strip() for v in value.split(",")] if isinstance(value, str) else [str(v).strip() for v in value]
    names = [n for n in names if n]
    if not names:
        raise ParameterError(f"{option}: give at least one column name, got {value!r}")
    return list(dict.fromkeys(names))


def _column_from_strings(values: list[str]) -> np.ndarray:
    """Float64 when every non-missing value parses as a number, else an object array."""
    missing = [v.strip().lower() in MISSING for v in values]
    out = np.empty(len(values), dtype=np.float64)
    try:
        for i, (v, miss) in enumerate(zip(values, missing)):
            out[i] = math.nan if miss else float(v)
        return out
    except ValueError:
        return np.array([None if miss else v.strip() for v, miss in zip(values, missing)], dtype=object)


def read_csv_table(path: str | os.PathLike) -> Table:
    """Read a CSV with a header row into a :class:`Table`.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp(); f = os.path.join(d, "t.csv")
    >>> _ = open(f, "w").write("a,b\\n1,x\\n2,y\\n")
    >>> t = read_csv_table(f)
    >>> t.columns, t.data["a"].tolist(), t.data["b"].tolist()
    (['a', 'b'], [1.0, 2.0], ['x', 'y'])
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file or directory")
    if p.is_dir():
        raise InputError(f"{p}: is a folder, expected a .csv file")
    if p.stat().st_size == 0:
        raise InputError(f"{p}: file is empty")
    try:
        with open(p, newline="", encoding="utf-8-sig") as fh:
            rows = [r for r in csv.reader(fh) if any(c.strip() for c in r)]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{p}: not a readable CSV text file ({exc})") from None
    if not rows:
        raise InputError(f"{p}: file is empty (no header row)")
    header = [h.strip() for h in rows[0]]
    if any(not h for h in header):
        raise InputError(f"{p}: header row has an empty column name (column {header.index('') + 1})")
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise InputError(f"{p}: header row repeats column name(s) {', '.join(dupes)}")
    body = rows[1:]
    if not body:
        raise DataError(f"{p}: has a header but no data rows")
    for i, r in enumerate(body):
        if len(r) != len(header):
            raise DataError(f"{p}: data row {i + 1} has {len(r)} fields, the header has {len(header)}")
    data = {h: _column_from_strings([r[j] for r in body]) for j, h in enumerate(header)}
    return Table(str(p), header, data, named=True)


def _is_frame(obj: Any) -> bool:
    return hasattr(obj, "columns") and hasattr(obj, "to_numpy") and not isinstance(obj, np.ndarray)


def table_from_frame(frame: Any, name: str = "dataframe") -> Table:
    """A :class:`Table` from a DataFrame-like object (``.columns`` and per-column ``.to_numpy()``).

    Examples
    --------
    >>> import pandas as pd
    >>> t = table_from_frame(pd.DataFrame({"a": [1, 2], "c": ["u", None]}))
    >>> t.data["a"].tolist(), t.data["c"].tolist()
    ([1.0, 2.0], ['u', None])
    """
    columns = [str(c) for c in frame.columns]
    if len(set(columns)) != len(columns):
        raise InputError(f"{name}: repeated column names")
    data = {}
    for key, col in zip(frame.columns, columns):
        values = np.asarray(frame[key].to_numpy())
        if values.dtype.kind in "biuf":
            data[col] = values.astype(np.float64)
        else:
            obj: list[Any] = []
            for v in values:
                if v is None or (isinstance(v, float) and math.isnan(v)) or str(v) in ("<NA>", "NaT"):
                    obj.append(None)
                else:
                    obj.append(v)
            arr = np.array(obj + [None], dtype=object)[:-1]
            try:  # numbers stored as objects (e.g. nullable integer columns)
                data[col] = np.array([math.nan if v is None else float(v) for v in arr], dtype=np.float64)
            except (TypeError, ValueError):
                data[col] = np.array([None if v is None else str(v) for v in arr] + [None], dtype=object)[:-1]
    if not columns:
        raise DataError(f"{name}: has no columns")
    table = Table(name, columns, data, named=True)
    if table.n_rows == 0:
        raise DataError(f"{name}: has no rows")
    return table


def _table_from_array(name: str, arr: np.ndarray, columns: Sequence[str] | None) -> Table:
    if arr.ndim != 2:
        raise DataError(f"{name}: tabular metrics need a 2-D array of rows, got shape {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise DataError(f"{name}: array of dtype {arr.dtype} is not numeric")
    if arr.shape[0] == 0:
        raise DataError(f"{name}: has no rows")
    named = columns is not None and len(columns) == arr.shape[1]
    names = [str(c) for c in columns] if columns is not None and named else [f"x{j}" for j in range(arr.shape[1])]
    data = {c: arr[:, j].astype(np.float64) for j, c in enumerate(names)}
    return Table(name, names, data, named=named)


def read_table(spec: Any, name: str | None = None) -> Table:
    """Read any tabular input: ``.csv``, ``.npy``/``.npz`` rows, ``builtin:NAME/SPLIT``, a
    numpy array, a torch tensor, a DataFrame-like object or a :class:`Table`."""
    if isinstance(spec, Table):
        return spec
    if _is_frame(spec):
        return table_from_frame(spec, name or "dataframe")
    if isinstance(spec, (str, os.PathLike)):
        text = os.fspath(spec)
        if not text.startswith(("builtin:", "ref:")) and text.lower().endswith(".csv"):
            return read_csv_table(text)
    from . import open_source

    source = open_source(spec, name=name)
    if source.kind != "features" or not isinstance(source, ArraySource):
        raise DataError(
            f"{source.name}: holds {source.kind}; tabular metrics need feature rows "
            f"(.csv, a 2-D .npy/.npz array or a built-in table)"
        )
    return _table_from_array(source.name, np.asarray(source.array), source.columns)


def _category_key(value: Any) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(value)


class TableEncoder:
    """Column selection and one-hot encoding, fitted on one (real) table, applied to others.

    Examples
    --------
    >>> t = Table("t", ["a", "c"], {"a": np.array([1.0, 2.0]), "c": np.array(["u", "v"], dtype=object)})
    >>> enc = TableEncoder.fit(t, categorical=["c"])
    >>> x, names = enc.transform(t)
    >>> names, x.tolist()
    (['a', 'c=u', 'c=v'], [[1.0, 1.0, 0.0], [2.0, 0.0, 1.0]])
    """

    def __init__(self, columns: list[str], categories: dict[str, list[str]]):
        self.columns = columns
        self.categories = categories

    @property
    def feature_names(self) -> list[str]:
        names: list[str] = []
        for c in self.columns:
            names.extend([f"{c}={k}" for k in self.categories[c]] if c in self.categories else [c])
        return names

    @classmethod
    def fit(
        cls,
        table: Table,
        *,
        columns: str | Sequence[str] | None = None,
        categorical: str | Sequence[str] | None = None,
        exclude: Iterable[str] = (),
        skip_invalid: bool = False,
    ) -> TableEncoder:
        """Choose the columns of ``table`` (all but ``exclude`` by default) and fit the
        categories of the ``categorical`` ones on it."""
        chosen = _split_names(columns, "columns")
        cats = _split_names(categorical, "categorical") or []
        exclude = set(exclude)
        if chosen is None:
            chosen = [c for c in table.columns if c not in exclude]
        else:
            _require_columns(table, chosen, "columns")
            bad = [c for c in chosen if c in exclude]
            if bad:
                raise ParameterError(f"columns: {bad[0]!r} is the target column; it cannot also be a feature")
        if not chosen:
            raise DataError(f"{table.name}: no feature columns left to use")
        _require_columns(table, cats, "categorical")
        unused = [c for c in cats if c not in chosen]
        if unused:
            raise ParameterError(f"categorical: column {unused[0]!r} is not among the columns used")
        keep = _valid_rows(table, chosen, skip_invalid)
        categories = {}
        for c in cats:
            values = table.data[c][keep]
            categories[c] = sorted({_category_key(v) for v in values}, key=_sort_key)
        return cls(chosen, categories)

    def transform(
        self, table: Table, *, skip_invalid: bool = False, text_hint: str | None = None
    ) -> tuple[np.ndarray, list[str]]:
        """The encoded float64 rows of ``table`` and the feature names.

        ``text_hint`` ends the error for a text column that is not categorical ("{c}" is
        replaced by the column name); the default names the tabular commands' options."""
        _require_columns(table, self.columns, "columns")
        keep = _valid_rows(table, self.columns, skip_invalid)
        if not keep.any():
            raise DataError(f"{table.name}: no rows left after dropping rows with missing values")
        blocks = []
        for c in self.columns:
            col = table.data[c][keep]
            if c in self.categories:
                cats = self.categories[c]
                index = {k: i for i, k in enumerate(cats)}
                codes = np.array([index.get(_category_key(v), -1) for v in col])
                block = np.zeros((col.shape[0], len(cats)))
                seen = codes >= 0
                block[np.flatnonzero(seen), codes[seen]] = 1.0
                if not seen.all():
                    warnings.warn(
                        f"{table.name}: {int((~seen).sum())} value(s) of column {c!r} are categories "
                        f"not seen in the real data; encoded as all zeros",
                        stacklevel=2,
                    )
                blocks.append(block)
            else:
                if col.dtype == object:
                    row, bad = _first_text(col)
                    hint = (text_hint or TABULAR_TEXT_HINT).replace("{c}", c)
                    raise DataError(
                        f"{table.name}: column {c!r} is not numeric (value {bad!r} at data row {row + 1}); {hint}"
                    )
                blocks.append(col[:, None])
        rows = np.hstack(blocks).astype(np.float64)
        if not np.isfinite(rows).all():
            i, j = np.argwhere(~np.isfinite(rows))[0]
            raise DataError(
                f"{table.name}: value {show(rows[i, j])} at data row {i + 1}, column "
                f"{self.feature_names[j]!r} is not finite"
            )
        return rows, self.feature_names


#: how to fix a text column, for the commands that have --categorical and --columns
TABULAR_TEXT_HINT = "pass --categorical {c} to one-hot encode it, or leave it out with --columns"
#: the same for inputs read as feature rows (fid, kid, ...: numeric columns only)
FEATURE_TEXT_HINT = (
    "feature inputs must be numeric: remove the column or encode it as numbers "
    "(the tabular commands ecdf, c2st, wasserstein, ... can one-hot encode it, as can "
    "source_options={'categorical': [...]} in Python)"
)


def _first_text(col: np.ndarray) -> tuple[int, Any]:
    """Row and value of the first entry of a text column that is not a number."""
    for i, v in enumerate(col):
        if v is None:
            continue
        try:
            float(v)
        except (TypeError, ValueError):
            return i, v
    i = next(i for i, v in enumerate(col) if v is not None)  # pragma: no cover - all numeric
    return i, col[i]


def _sort_key(k: str) -> tuple:
    try:
        return (0, float(k), k)
    except ValueError:
        return (1, 0.0, k)


def _require_columns(table: Table, names: Sequence[str], option: str) -> None:
    missing = [c for c in names if c not in table.data]
    if missing:
        raise DataError(
            f"{table.name}: has no column {missing[0]!r} (asked for by {option}); "
            f"columns are {', '.join(table.columns[:20])}{' ...' if len(table.columns) > 20 else ''}"
        )


def _valid_rows(table: Table, columns: Sequence[str], skip_invalid: bool) -> np.ndarray:
    bad = np.zeros(table.n_rows, dtype=bool)
    for c in columns:
        miss = table.missing(c)
        if miss.any() and not skip_invalid:
            raise DataError(
                f"{table.name}: missing value at data row {int(np.argmax(miss)) + 1}, column {c!r} "
                f"({int(miss.sum())} missing in that column); fill it, or drop such rows (--skip-invalid)"
            )
        bad |= miss
    if bad.any():
        table.metadata["skipped_rows"] = int(bad.sum())
    return ~bad


def _check_same_columns(real: Table, other: Table) -> None:
    """Named tables must hold the same set of columns (any order)."""
    a, b = set(real.columns), set(other.columns)
    if a != b:
        parts = []
        if a - b:
            parts.append(f"{real.name} has {', '.join(sorted(a - b)[:5])} not in {other.name}")
        if b - a:
            parts.append(f"{other.name} has {', '.join(sorted(b - a)[:5])} not in {real.name}")
        raise DataError("columns differ: " + "; ".join(parts))


def _align_all(tables: list[Table]) -> list[Table]:
    ref = next((t for t in tables if t.named), tables[0])
    out = []
    for t in tables:
        if t is ref:
            out.append(t)
        elif not t.named or not ref.named:
            if len(t.columns) != len(ref.columns):
                raise DataError(
                    f"feature dimensions differ: {ref.name} has {len(ref.columns)}, {t.name} has {len(t.columns)}"
                )
            data = {rc: t.data[oc] for rc, oc in zip(ref.columns, t.columns)}
            out.append(Table(t.name, list(ref.columns), data, named=ref.named, metadata=t.metadata))
        else:
            _check_same_columns(ref, t)
            out.append(t)
    return out


@dataclass
class TablePair:
    """Real and fake rows encoded the same way, with the feature names."""

    real: np.ndarray
    fake: np.ndarray
    columns: list[str]
    real_name: str
    fake_name: str
    skipped: dict[str, int] = field(default_factory=dict)


def load_table_pair(
    real: Any,
    fake: Any,
    *,
    columns: str | Sequence[str] | None = None,
    categorical: str | Sequence[str] | None = None,
    skip_invalid: bool = False,
) -> TablePair:
    """Read REAL and FAKE together: same columns, one-hot categories fitted on REAL.

    Parameters
    ----------
    real, fake : path, ``builtin:NAME/SPLIT``, array, DataFrame-like or :class:`Table`
    columns : str or list of str, optional
        Columns to use (comma-separated string or list); default all.
    categorical : str or list of str, optional
        Columns to one-hot encode (categories from REAL).
    skip_invalid : bool, default=False
        Drop rows with missing values instead of stopping.

    Examples
    --------
    >>> import numpy as np
    >>> pair = load_table_pair(np.zeros((3, 2)), np.ones((4, 2)))
    >>> pair.real.shape, pair.fake.shape, pair.columns
    ((3, 2), (4, 2), ['x0', 'x1'])
    """
    r, f = _align_all([read_table(real, "real"), read_table(fake, "fake")])
    enc = TableEncoder.fit(r, columns=columns, categorical=categorical, skip_invalid=skip_invalid)
    xr, names = enc.transform(r, skip_invalid=skip_invalid)
    xf, _ = enc.transform(f, skip_invalid=skip_invalid)
    skipped = {t.name: t.metadata["skipped_rows"] for t in (r, f) if t.metadata.get("skipped_rows")}
    return TablePair(xr, xf, names, r.name, f.name, skipped)


@dataclass
class LabelledTable:
    """Encoded feature rows of one input and its target labels."""

    name: str
    rows: np.ndarray
    labels: np.ndarray


def _target_labels(table: Table, target: str, keep: np.ndarray) -> np.ndarray:
    col = table.data[target][keep]
    if col.dtype == object:
        return np.array([str(v) for v in col])
    if np.all(np.isfinite(col)) and np.all(col == np.round(col)):
        return col.astype(np.int64)
    return col


def load_labelled_tables(
    specs: Sequence[Any],
    target: str,
    *,
    columns: str | Sequence[str] | None = None,
    categorical: str | Sequence[str] | None = None,
    skip_invalid: bool = False,
) -> tuple[list[LabelledTable], list[str]]:
    """Read several tables with a ``target`` column (the first one is real training data:
    categories are fitted on it); return the encoded rows and labels of each, and the
    feature names.

    Examples
    --------
    >>> tabs, names = load_labelled_tables(["builtin:wine/train", "builtin:wine/test"], "target")
    >>> len(names), sorted(set(tabs[0].labels.tolist()))
    (13, [0, 1, 2])
    """
    if not target:
        raise ParameterError("target: give the name of the class column")
    tables = _align_all([read_table(s, f"input {i + 1}") for i, s in enumerate(specs)])
    for t in tables:
        if target not in t.data:
            raise DataError(
                f"{t.name}: has no target column {target!r}; columns are "
                f"{', '.join(t.columns[:20])}{' ...' if len(t.columns) > 20 else ''}"
            )
    enc = TableEncoder.fit(
        tables[0], columns=columns, categorical=categorical, exclude=[target], skip_invalid=skip_invalid
    )
    out = []
    for i, t in enumerate(tables):
        keep = _valid_rows(t, list(enc.columns) + [target], skip_invalid)
        sub = Table(t.name, t.columns, {c: v[keep] for c, v in t.data.items()}, t.named)
        rows, _ = enc.transform(sub)
        labels = _target_labels(t, target, keep)
        if i < 2 and np.unique(labels).size < 2:  # the two training sets
            raise DataError(
                f"{t.name}: target column {target!r} has one class ({show(labels[0])}); a classifier needs >= 2"
            )
        out.append(LabelledTable(t.name, rows, labels))
    return out, enc.feature_names


def open_csv(
    path: str | os.PathLike,
    *,
    columns: str | Sequence[str] | None = None,
    categorical: str | Sequence[str] | None = None,
    skip_invalid: bool = False,
    **ignored: Any,
) -> ArraySource:
    """Open a ``.csv`` as a feature source (categories fitted on this file alone; to encode
    a real/fake pair consistently use :func:`load_table_pair`).

    Examples
    --------
    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> _ = open(f, "w").write("a,b\\n1,2\\n3,4\\n")
    >>> src = open_csv(f)
    >>> src.kind, src.columns, src.array.tolist()
    ('features', ['a', 'b'], [[1.0, 2.0], [3.0, 4.0]])
    """
    return _table_source(read_csv_table(path), columns, categorical, skip_invalid)


def frame_source(
    frame: Any,
    *,
    name: str | None = None,
    columns: str | Sequence[str] | None = None,
    categorical: str | Sequence[str] | None = None,
    skip_invalid: bool = False,
    **ignored: Any,
) -> ArraySource:
    """Open a DataFrame-like object (``.columns``, ``.to_numpy``) as a feature source.

    Examples
    --------
    >>> import pandas as pd
    >>> frame_source(pd.DataFrame({"a": [1.0, 2.0]})).array.shape
    (2, 1)
    """
    return _table_source(table_from_frame(frame, name or "dataframe"), columns, categorical, skip_invalid)


def _table_source(table: Table, columns, categorical, skip_invalid) -> ArraySource:
    enc = TableEncoder.fit(table, columns=columns, categorical=categorical, skip_invalid=skip_invalid)
    rows, names = enc.transform(table, skip_invalid=skip_invalid, text_hint=FEATURE_TEXT_HINT)
    meta: dict[str, Any] = {"categories": enc.categories} if enc.categories else {}
    if table.metadata.get("skipped_rows"):
        meta["skipped"] = table.metadata["skipped_rows"]
    return ArraySource(table.name, rows, kind="features", columns=names, metadata=meta)
