"""Tabular sources: CSV, DataFrame-like objects, real/fake pairs, categorical encoding, bad input."""

import warnings

import numpy as np
import pandas as pd
import pytest

from ganeval.errors import DataError, InputError, ParameterError
from ganeval.sources import open_source
from ganeval.sources.tabular import load_labelled_tables, load_table_pair, read_csv_table


def write(path, text):
    path.write_text(text)
    return path


def test_csv_through_open_source(tmp_path):
    f = write(tmp_path / "a.csv", "x,y,z\n1,2.5,-3\n4,5e-1,6\n")
    src = open_source(f)
    assert src.kind == "features" and src.columns == ["x", "y", "z"]
    np.testing.assert_array_equal(src.array, [[1, 2.5, -3], [4, 0.5, 6]])
    src = open_source(f, columns="z,x")
    assert src.columns == ["z", "x"] and src.array.tolist() == [[-3, 1], [6, 4]]


def test_dataframe_through_open_source():
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "kind": ["u", "v", "u"]})
    src = open_source(df, categorical="kind")
    assert src.columns == ["a", "kind=u", "kind=v"]
    assert src.array.tolist() == [[1, 1, 0], [2, 0, 1], [3, 1, 0]]
    with pytest.raises(DataError, match="column 'kind' is not numeric"):
        open_source(df)


def test_pair_categories_fitted_on_real_and_columns_reordered(tmp_path):
    real = write(tmp_path / "r.csv", "proto,bytes\ntcp,10\nudp,20\nicmp,5\n")
    fake = write(tmp_path / "f.csv", "bytes,proto\n11,udp\n3,tcp\n7,gre\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pair = load_table_pair(real, fake, categorical="proto")
    assert pair.columns == ["proto=icmp", "proto=tcp", "proto=udp", "bytes"]
    assert pair.real.tolist() == [[0, 1, 0, 10], [0, 0, 1, 20], [1, 0, 0, 5]]
    assert pair.fake.tolist() == [[0, 0, 1, 11], [0, 1, 0, 3], [0, 0, 0, 7]]  # 'gre' unseen -> zeros
    assert any("not seen in the real data" in str(w.message) for w in caught)


def test_pair_mixed_sources(tmp_path, rng):
    arr = rng.normal(size=(10, 3))
    np.save(tmp_path / "f.npy", arr)
    real = write(tmp_path / "r.csv", "a,b,c\n" + "\n".join(",".join(map(str, r)) for r in arr))
    pair = load_table_pair(real, tmp_path / "f.npy")
    assert pair.columns == ["a", "b", "c"]
    np.testing.assert_allclose(pair.real, pair.fake)
    pair = load_table_pair(tmp_path / "f.npy", real, columns="a")  # unnamed real takes fake's names
    assert pair.real.shape == (10, 1)
    pair = load_table_pair("builtin:wine/train", "builtin:wine/test", columns=["alcohol", "target"])
    assert pair.real.shape[1] == 2 and pair.columns == ["alcohol", "target"]


def test_missing_values(tmp_path):
    f = write(tmp_path / "m.csv", "a,b\n1,2\n3,\n5,NA\n7,8\n")
    with pytest.raises(DataError, match="missing value at data row 2, column 'b'"):
        open_source(f)
    src = open_source(f, skip_invalid=True)
    assert src.array.tolist() == [[1, 2], [7, 8]] and src.metadata["skipped"] == 2
    assert open_source(f, columns="a").array.shape == (4, 1)  # the missing column is not used


def test_text_column_is_an_error_naming_it(tmp_path):
    f = write(tmp_path / "t.csv", "a,colour\n1,red\n2,blue\n")
    with pytest.raises(DataError, match="column 'colour' is not numeric .*'red' at data row 1.*one-hot"):
        open_source(f)
    with pytest.raises(DataError, match="column 'colour' is not numeric .*--categorical colour"):
        load_table_pair(f, f)


def test_different_columns(tmp_path):
    real = write(tmp_path / "r.csv", "a,b\n1,2\n")
    fake = write(tmp_path / "f.csv", "a,c\n1,2\n")
    with pytest.raises(DataError, match="columns differ: .*r.csv has b not in .*f.csv has c not in"):
        load_table_pair(real, fake)
    with pytest.raises(DataError, match="has no column 'q'"):
        load_table_pair(real, real, columns="a,q")


def test_mismatched_dimensions(tmp_path, rng):
    np.save(tmp_path / "a.npy", rng.normal(size=(5, 3)))
    np.save(tmp_path / "b.npy", rng.normal(size=(5, 4)))
    with pytest.raises(DataError, match="feature dimensions differ"):
        load_table_pair(tmp_path / "a.npy", tmp_path / "b.npy")


def test_empty_and_malformed_files(tmp_path):
    empty = write(tmp_path / "e.csv", "")
    with pytest.raises(InputError, match="file is empty"):
        read_csv_table(empty)
    with pytest.raises(InputError, match="file is empty"):
        open_source(empty)
    header = write(tmp_path / "h.csv", "a,b\n")
    with pytest.raises(DataError, match="no data rows"):
        load_table_pair(header, header)
    ragged = write(tmp_path / "r.csv", "a,b\n1,2\n3\n")
    with pytest.raises(DataError, match="data row 2 has 1 fields"):
        read_csv_table(ragged)
    dup = write(tmp_path / "d.csv", "a,a\n1,2\n")
    with pytest.raises(InputError, match="repeats column"):
        read_csv_table(dup)
    np.save(tmp_path / "z.npy", np.zeros((0, 3)))
    with pytest.raises(DataError, match="no rows"):
        load_table_pair(tmp_path / "z.npy", tmp_path / "z.npy")
    with pytest.raises(InputError, match="no such file"):
        load_table_pair(tmp_path / "nope.csv", header)


def test_bad_options(tmp_path):
    f = write(tmp_path / "a.csv", "a,b\n1,2\n")
    with pytest.raises(ParameterError, match="columns: give at least one"):
        load_table_pair(f, f, columns=" , ")
    with pytest.raises(ParameterError, match="categorical: column 'b' is not among"):
        load_table_pair(f, f, columns="a", categorical="b")


def test_labelled_tables(tmp_path):
    real = write(tmp_path / "r.csv", "f,label\n1,cat\n2,dog\n3,cat\n")
    fake = write(tmp_path / "f.csv", "label,f\ndog,1\ncat,5\n")
    tabs, names = load_labelled_tables([real, fake], "label")
    assert names == ["f"] and tabs[1].labels.tolist() == ["dog", "cat"]
    assert tabs[1].rows.tolist() == [[1], [5]]
    with pytest.raises(DataError, match="has no target column 'y'"):
        load_labelled_tables([real, fake], "y")
    one = write(tmp_path / "o.csv", "f,label\n1,cat\n2,cat\n")
    with pytest.raises(DataError, match="target column 'label' has one class"):
        load_labelled_tables([real, one], "label")
    with pytest.raises(ParameterError, match="target column"):
        load_labelled_tables([real, fake], "label", columns="f,label")
    tabs, names = load_labelled_tables(["builtin:breast_cancer/train", "builtin:breast_cancer/test"], "target")
    assert len(names) == 30 and set(tabs[0].labels.tolist()) == {0, 1}
