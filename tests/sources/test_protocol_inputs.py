"""The field's input files: ADM batches, ADM reference batches, EDM / EDM2 pickles (restricted
unpickler; a malicious pickle must not run), clean-fid / pytorch-fid .npz."""

from __future__ import annotations

import json
import os
import pickle

import numpy as np
import pytest

from ganeval import fid_from_features
from ganeval.api import evaluate, load_features
from ganeval.errors import DataError, InputError
from ganeval.sources import StatsSource, open_source
from ganeval.sources.pickles import load_pickle_safely, stats_from_pickle
from ganeval.statistics import FeatureStats


def _moments(x):
    return x.mean(0), np.cov(x, rowvar=False)


@pytest.fixture
def feats():
    rng = np.random.default_rng(0)
    return rng.normal(size=(40, 5)), rng.normal(size=(40, 3)) + 1.0, rng.normal(size=(40, 4))


def test_adm_sample_batch_is_nhwc_images_labels_ignored(tmp_path):
    rng = np.random.default_rng(1)
    imgs = rng.integers(0, 256, size=(4, 6, 5, 3), dtype=np.uint8)
    np.savez(tmp_path / "samples.npz", arr_0=imgs, arr_1=np.arange(4))
    src = open_source(str(tmp_path / "samples.npz"))
    assert src.kind == "images" and len(src) == 4
    # a plain np.savez of feature rows (arr_0, 2-D) is still feature rows
    np.savez(tmp_path / "rows.npz", rng.normal(size=(5, 2)))
    assert open_source(str(tmp_path / "rows.npz")).kind == "features"
    batch = next(src.iter_batches(4))
    np.testing.assert_array_equal(batch, imgs.transpose(0, 3, 1, 2))  # NHWC read as such


def test_adm_sample_batch_wrong_array_is_one_clear_error(tmp_path):
    np.savez(tmp_path / "bad.npz", arr_0=np.zeros((4, 6, 5, 3), np.float32), arr_1=np.arange(4))
    with pytest.raises(InputError, match=r"bad\.npz: 'arr_0' of an ADM batch must be uint8 images"):
        open_source(str(tmp_path / "bad.npz"))


def test_adm_reference_batch_keeps_pool_and_spatial_moments(tmp_path, feats):
    pool, spatial, _ = feats
    mu, sigma = _moments(pool)
    mu_s, sigma_s = _moments(spatial)
    np.savez(
        tmp_path / "ref.npz", arr_0=np.zeros((2, 8, 8, 3), np.uint8), mu=mu, sigma=sigma, mu_s=mu_s, sigma_s=sigma_s
    )
    src = open_source(str(tmp_path / "ref.npz"))
    assert isinstance(src, StatsSource)
    np.testing.assert_allclose(src.stats.mean, mu)
    np.testing.assert_allclose(src.spatial.cov, sigma_s)
    assert src.stats.metadata["extractor"] == "inception" and src.stats.metadata["preprocessing"] == "tf"
    f = load_features(str(tmp_path / "ref.npz"))
    np.testing.assert_allclose(f.need_extra_stats("spatial").mean, mu_s)
    # its 10,000 images (here 2) for precision/recall
    from ganeval.sources.arrays import open_adm_images

    assert open_adm_images(tmp_path / "ref.npz").kind == "images"
    # the spatial moments give the Fréchet distance of the spatial rows
    other = np.random.default_rng(9).normal(size=(30, 3))
    from ganeval.metrics.fid import fid_from_stats

    got = fid_from_stats(f.need_extra_stats("spatial"), FeatureStats.from_features(other)).value
    assert got == pytest.approx(fid_from_features(spatial, other).value, rel=1e-9)


def test_pytorch_fid_and_clean_fid_npz_are_statistics(tmp_path, feats):
    pool, _, _ = feats
    mu, sigma = _moments(pool)
    np.savez(tmp_path / "pfid.npz", mu=mu, sigma=sigma)  # pytorch-fid, clean-fid, EDM fid-refs
    src = open_source(str(tmp_path / "pfid.npz"))
    assert isinstance(src, StatsSource) and src.spatial is None
    np.testing.assert_allclose(src.stats.cov, sigma)


def test_edm2_dataset_refs_pickle(tmp_path, feats):
    pool, _, dino = feats
    ref = {
        "num_images": 40,
        "fid": dict(zip(("mu", "sigma"), _moments(pool))),
        "fd_dinov2": dict(zip(("mu", "sigma"), _moments(dino))),
    }
    (tmp_path / "img64.pkl").write_bytes(pickle.dumps(ref))
    src = open_source(str(tmp_path / "img64.pkl"))
    assert src.stats.dim == 5 and src.stats.n == 40
    assert src.stats.metadata["extractor"] == "inception"
    assert src.stats_for("dinov2").dim == 4 and src.stats_for("dinov2:vitl14").dim == 4
    # as REAL in evaluate: FD against DINOv2 feature rows picks the fd_dinov2 moments
    assert load_features(str(tmp_path / "img64.pkl"), extractor="dinov2").stats.dim == 4
    fake = np.random.default_rng(3).normal(size=(30, 5))
    res = evaluate(str(tmp_path / "img64.pkl"), fake, ["fid"])
    assert res["fid"].value == pytest.approx(fid_from_features(pool, fake).value, rel=1e-9)


def test_edm_style_mu_sigma_pickle_and_protocol_5(tmp_path, feats):
    pool, _, _ = feats
    mu, sigma = _moments(pool)
    for proto in (2, 4, 5):
        p = tmp_path / f"edm{proto}.pkl"
        p.write_bytes(pickle.dumps({"mu": mu, "sigma": sigma}, protocol=proto))
        st = stats_from_pickle(p).stats
        np.testing.assert_array_equal(st.mean, mu)
        np.testing.assert_array_equal(st.cov, sigma)


def test_numpy1_pickles_name_numpy_core_and_are_read(tmp_path):
    """Files written by numpy 1.x name numpy.core.multiarray; they are admitted too."""
    arr = np.arange(6.0).reshape(2, 3)
    data = pickle.dumps({"mu": arr, "s": np.float64(2.5)}, protocol=2)
    assert b"numpy._core.multiarray" in data
    old = data.replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")
    assert old != data
    p = tmp_path / "old.pkl"
    p.write_bytes(old)
    got = load_pickle_safely(p)
    np.testing.assert_array_equal(got["mu"], arr)
    assert got["s"] == 2.5


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _EvalEvil:
    def __reduce__(self):
        return (eval, ("__import__('os').getcwd()",))


@pytest.mark.parametrize("payload", ["system", "eval", "nested"])
def test_malicious_pickle_is_refused_and_never_runs(tmp_path, payload):
    marker = tmp_path / "pwned"
    evil = {
        "system": _Evil(marker),
        "eval": _EvalEvil(),
        "nested": {"fid": {"mu": np.zeros(2), "sigma": [_Evil(marker)]}},
    }[payload]
    p = tmp_path / "refs.pkl"
    p.write_bytes(pickle.dumps(evil))
    with pytest.raises(InputError) as err:
        open_source(str(p))
    msg = str(err.value)
    assert "\n" not in msg and str(p) in msg and "refused to unpickle" in msg
    assert ("system" in msg) or ("eval" in msg)
    assert not marker.exists()


def test_pickle_of_other_objects_is_refused(tmp_path):
    import collections
    import datetime

    p = tmp_path / "x.pkl"
    p.write_bytes(pickle.dumps({"mu": datetime.date(2020, 1, 1)}))
    with pytest.raises(InputError, match=r"refused to unpickle datetime\.date"):
        load_pickle_safely(p)
    p.write_bytes(pickle.dumps(np.array([object()], dtype=object)[:0]))  # an (empty) object array
    with pytest.raises(InputError, match="object array"):
        load_pickle_safely(p)
    p.write_bytes(pickle.dumps(collections.OrderedDict(mu=np.zeros(2), sigma=np.eye(2))))
    assert stats_from_pickle(p).stats.dim == 2  # OrderedDict is a plain container


def test_unreadable_and_wrong_pickles_are_one_line(tmp_path):
    p = tmp_path / "t.pkl"
    p.write_bytes(pickle.dumps({"mu": np.zeros(2)})[:-5])
    with pytest.raises(InputError, match=r"t\.pkl: not a readable pickle"):
        open_source(str(p))
    p.write_bytes(b"hello, not a pickle")
    with pytest.raises(InputError, match=r"t\.pkl: not a pickle file"):
        open_source(str(p))
    p.write_bytes(pickle.dumps({"mean": np.zeros(2)}))
    with pytest.raises(InputError, match=r"expected 'mu' and 'sigma'"):
        open_source(str(p))
    p.write_bytes(pickle.dumps({"fid": {"mu": np.zeros(2), "sigma": -np.eye(2)}}))
    with pytest.raises(DataError, match=r"t\.pkl\[fid\]"):
        open_source(str(p))


def test_stats_saved_with_spatial_round_trip(tmp_path, feats):
    pool, spatial, _ = feats
    a, b = FeatureStats.from_features(pool, metadata={"extractor": "inception"}), FeatureStats.from_features(spatial)
    a.save(tmp_path / "s.npz", spatial=b)
    with np.load(tmp_path / "s.npz") as data:
        assert {"mu", "sigma", "mu_s", "sigma_s", "n_s"} <= set(data.files)
        assert json.loads(str(data["metadata"]))["extractor"] == "inception"
    src = open_source(str(tmp_path / "s.npz"))
    np.testing.assert_allclose(src.spatial.cov, np.cov(spatial, rowvar=False))
    assert src.spatial.n == 40


@pytest.mark.parametrize("compressed", [False, True])
def test_adm_batch_is_streamed_in_order(tmp_path, compressed):
    from ganeval.sources.adm import AdmBatchImageSource

    imgs = np.random.default_rng(4).integers(0, 256, size=(7, 5, 4, 3), dtype=np.uint8)
    (np.savez_compressed if compressed else np.savez)(tmp_path / "s.npz", arr_0=imgs, arr_1=np.arange(7))
    opened = open_source(str(tmp_path / "s.npz"))  # stored: memory-mapped; compressed: streamed
    assert isinstance(opened, AdmBatchImageSource) == compressed and len(opened) == 7
    np.testing.assert_array_equal(np.concatenate(list(opened.iter_batches(3))), imgs.transpose(0, 3, 1, 2))
    src = AdmBatchImageSource(tmp_path / "s.npz")
    got = np.concatenate(list(src.iter_batches(3)))
    np.testing.assert_array_equal(got, imgs.transpose(0, 3, 1, 2))
    assert [b.shape[0] for b in src.iter_batches(3)] == [3, 3, 1]
    # the fingerprint follows the content (zip CRC), not the file name or time
    np.savez(tmp_path / "t.npz", arr_0=imgs)
    assert AdmBatchImageSource(tmp_path / "t.npz").fingerprint() == src.fingerprint()
    imgs[0, 0, 0, 0] ^= 1
    np.savez(tmp_path / "t.npz", arr_0=imgs)
    assert AdmBatchImageSource(tmp_path / "t.npz").fingerprint() != src.fingerprint()


def test_adm_batch_truncated_member_is_one_line(tmp_path):
    import zipfile

    from ganeval.sources.adm import AdmBatchImageSource

    imgs = np.zeros((4, 8, 8, 3), np.uint8)
    np.save(tmp_path / "arr_0.npy", imgs)
    raw = (tmp_path / "arr_0.npy").read_bytes()
    with zipfile.ZipFile(tmp_path / "cut.npz", "w") as zf:
        zf.writestr("arr_0.npy", raw[: len(raw) - 100])
    src = AdmBatchImageSource(tmp_path / "cut.npz")
    with pytest.raises(InputError, match=r"cut\.npz\[arr_0\]: truncated"):
        list(src.iter_batches(2))
