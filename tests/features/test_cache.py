"""Feature cache: hit, miss, invalidation on mtime/content change, unreadable entries rebuilt,
atomic writes (nothing half-written after an error), no pickles."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from ganeval.errors import InputError
from ganeval.features import cache as cache_mod
from ganeval.features import extract_features
from ganeval.features.cache import cache_dir, cache_key, load_entry, store_entry


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("GANEVAL_CACHE_DIR", str(d))
    return d


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "imgs"
    d.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(d / f"{i}.png")
    return d


def entries(d):
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def run(path, **kw):
    return extract_features(path, extractor="digits", num_workers=0, **kw)


def test_cache_dir_env(isolated_cache, monkeypatch):
    assert cache_dir() == isolated_cache
    monkeypatch.delenv("GANEVAL_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", "/somewhere")
    assert str(cache_dir()) == "/somewhere/ganeval"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == cache_dir().home() / ".cache" / "ganeval"


def test_miss_then_hit(folder, isolated_cache, monkeypatch):
    first = run(folder)
    assert first.info["cached"] is False and len(entries(isolated_cache)) == 1
    calls = []
    import ganeval.features.engine as engine

    real = engine.run_extraction
    monkeypatch.setattr(engine, "run_extraction", lambda *a, **k: calls.append(1) or real(*a, **k))
    second = run(folder)
    assert second.info["cached"] is True and not calls
    assert np.array_equal(first.features, second.features) and np.array_equal(first.logits, second.logits)
    assert second.info["weights_sha256"] == first.info["weights_sha256"]


def test_no_cache_neither_reads_nor_writes(folder, isolated_cache):
    out = run(folder, cache=False)
    assert out.info["cached"] is False and entries(isolated_cache) == []


def test_mtime_change_invalidates(folder, isolated_cache):
    run(folder)
    st = os.stat(folder / "0.png")
    os.utime(folder / "0.png", ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    out = run(folder)
    assert out.info["cached"] is False and len(entries(isolated_cache)) == 2


def test_content_change_is_seen(folder):
    a = run(folder)
    Image.new("RGB", (8, 8), (255, 255, 255)).save(folder / "0.png")
    b = run(folder)
    assert b.info["cached"] is False and not np.array_equal(a.features[0], b.features[0])
    assert np.array_equal(a.features[1:], b.features[1:])


def test_key_depends_on_extractor_weights_preprocessing():
    base = cache_key("fp", "inception", "w1", "tf")
    assert (
        len(
            {
                base,
                cache_key("fp2", "inception", "w1", "tf"),
                cache_key("fp", "digits", "w1", "tf"),
                cache_key("fp", "inception", "w2", "tf"),
                cache_key("fp", "inception", "w1", "clean"),
            }
        )
        == 5
    )


@pytest.mark.parametrize("damage", [b"", b"not a zip", "truncate"])
def test_unreadable_entry_is_rebuilt(folder, isolated_cache, damage):
    good = run(folder)
    (entry,) = isolated_cache.iterdir()
    if damage == "truncate":
        data = entry.read_bytes()
        entry.write_bytes(data[: len(data) // 2])
    else:
        entry.write_bytes(damage)
    again = run(folder)
    assert again.info["cached"] is False
    assert np.array_equal(again.features, good.features)
    assert run(folder).info["cached"] is True  # rewritten


def test_pickled_entry_is_refused(isolated_cache):
    key = "k" * 64
    isolated_cache.mkdir()
    np.savez(
        isolated_cache / f"features-{key}.npz",
        features=np.array([{"a": 1}], dtype=object),
        skipped=np.array(0),
        info=np.array("{}"),
    )
    assert load_entry(key) is None


def test_error_leaves_nothing_in_cache(folder, isolated_cache):
    (folder / "2.png").write_bytes(b"corrupt")
    with pytest.raises(InputError, match=r"2\.png"):
        run(folder)
    assert entries(isolated_cache) == []


def test_interrupted_write_leaves_no_entry(isolated_cache, monkeypatch):
    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(cache_mod.np, "savez", boom)
    assert store_entry("a" * 64, np.zeros((2, 3)), None, 0, {}) is None
    assert entries(isolated_cache) == []  # the temporary file is removed too


def test_unwritable_cache_only_warns(folder, tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("GANEVAL_CACHE_DIR", str(blocker / "sub"))
    out = run(folder)
    assert out.features.shape == (4, 64) and "could not write the feature cache" in caplog.text


def test_skipped_count_is_cached(folder, isolated_cache):
    (folder / "3.png").write_bytes(b"")
    a = run(folder, skip_invalid=True)
    b = run(folder, skip_invalid=True)
    assert a.info["skipped"] == b.info["skipped"] == 1 and b.info["cached"] is True
    assert b.features.shape == (3, 64)


def test_cache_dir_with_an_unknown_user_is_one_clear_error(monkeypatch):
    """Issue 17: GANEVAL_CACHE_DIR="~nouser/x" is a ParameterError naming the variable."""
    from ganeval.errors import ParameterError
    from ganeval.features.cache import cache_dir

    monkeypatch.setenv("GANEVAL_CACHE_DIR", "~no_such_user_ganeval_xyz/cache")
    with pytest.raises(
        ParameterError,
        match=r"GANEVAL_CACHE_DIR='~no_such_user_ganeval_xyz/cache': user "
        r"'no_such_user_ganeval_xyz' is unknown",
    ):
        cache_dir()
