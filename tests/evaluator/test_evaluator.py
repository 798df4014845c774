"""Evaluator: equals ganeval.evaluate for any batching, feature inputs, real sides, state,
and every bad input of issue 8."""

import numpy as np
import pytest
import torch

import ganeval
from ganeval import DataError, Evaluator, InputError, ParameterError
from ganeval.features.digits import digits_images

EXTRACT = dict(extractor="digits", cache=False, device="cpu", num_workers=0)


@pytest.fixture(scope="module")
def digits():
    return digits_images("train")[:240], digits_images("test")[:210]


def _feed(ev, images, sizes, real):
    lo, i = 0, 0
    while lo < len(images):
        size = sizes[i % len(sizes)]
        ev.update(images[lo : lo + size], real=real)
        lo += size
        i += 1


METRICS = ("fid", "kid", "is", "prdc")

#: FID of the same features by two float64 paths (streamed torch moments merged batch by batch
#: vs numpy moments of all rows): the moments agree to ~1e-15 relative, but FID is a difference
#: tr S1 + tr S2 - 2 tr (S1^1/2 S2 S1^1/2)^1/2 whose terms are ~10^3 x FID for the digits
#: features, and the eigendecomposition's round-off depends on the BLAS/LAPACK build and the
#: thread count; 1.7e-8 relative was observed on one machine: 1e-7 leaves a 6x margin.
FID_REL = 1e-7
OPTS = {"kid": {"subsets": 20, "subset_size": 100, "seed": 3}, "prdc": {"k": 3}, "is": {"splits": 3}}


def test_equals_evaluate_same_batching(digits):
    real, fake = digits
    ref = ganeval.evaluate(real, fake, METRICS, options=OPTS, batch_size=50, **EXTRACT)
    ev = Evaluator(METRICS, extractor="digits", device="cpu", options=OPTS)
    _feed(ev, real, [50], real=True)
    _feed(ev, fake, [50], real=False)
    got = ev.compute()
    assert got["fid"].value == pytest.approx(ref["fid"].value, rel=FID_REL)
    for m in ("kid", "is", "prdc"):
        assert got[m].values == ref[m].values, m
    assert (got["kid"].n_real, got["kid"].n_fake) == (240, 210)
    assert got["fid"].settings["extractor"] == "digits"


@pytest.mark.parametrize("sizes", [[1, 7, 64], [210]])
def test_any_batching(digits, sizes):
    """Other batch sizes change the features by float32 round-off of batched convolutions
    (measured: up to 1.2e-6 absolute, 4e-7 relative, for the digits CNN on CPU), so the
    metrics agree to that."""
    real, fake = digits
    ref = ganeval.evaluate(real, fake, METRICS, options=OPTS, batch_size=50, **EXTRACT)
    ev = Evaluator(METRICS, extractor="digits", device="cpu", options=OPTS)
    _feed(ev, real, sizes, real=True)
    _feed(ev, fake, sizes[::-1], real=False)
    got = ev.compute()
    assert got["fid"].value == pytest.approx(ref["fid"].value, rel=1e-6)
    assert got["kid"].value == pytest.approx(ref["kid"].value, rel=1e-5, abs=1e-9)
    assert got["is"].value == pytest.approx(ref["is"].value, rel=1e-6)
    for key, v in got["prdc"].values.items():
        assert v == pytest.approx(ref["prdc"].values[key], abs=2 / 210), key


def test_float_images_in_value_range_equal_uint8(digits):
    real, fake = digits
    as_float = torch.from_numpy(fake.astype(np.float64) / 255.0 * 2.0 - 1.0)  # exact in float64
    a = Evaluator(("fid", "is"), extractor="digits", device="cpu", real=real, options={"is": {"splits": 2}})
    b = Evaluator(("fid", "is"), extractor="digits", device="cpu", real=real, options={"is": {"splits": 2}})
    a.update(fake)
    b.update(as_float[:, None])  # NCHW, 1 channel
    ra, rb = a.compute(), b.compute()
    assert ra["fid"].value == rb["fid"].value and ra["is"].value == rb["is"].value


def test_feature_rows_match_functional_metrics(rng):
    x, y = rng.normal(size=(150, 6)), rng.normal(size=(120, 6)) + 0.3
    logits = rng.normal(size=(120, 5))
    ev = Evaluator(METRICS, extractor=None, options=OPTS)
    for lo in range(0, 150, 40):
        ev.update(torch.from_numpy(x[lo : lo + 40]), real=True)
    for lo in range(0, 120, 33):
        ev.update(y[lo : lo + 33], logits=logits[lo : lo + 33])
    got = ev.compute()
    assert got["fid"].value == pytest.approx(ganeval.fid_from_features(x, y).value, rel=1e-10)
    assert got["kid"].values == ganeval.kernel_inception_distance(x, y, **OPTS["kid"]).values
    assert got["prdc"].values == ganeval.prdc(x, y, k=3).values
    assert got["is"].value == pytest.approx(ganeval.inception_score(logits, splits=3).value, rel=1e-12)


def test_float32_rows_keep_half_the_memory_and_agree(rng):
    x, y = rng.normal(size=(200, 8)), rng.normal(size=(200, 8)) + 0.2
    a = Evaluator(("kid", "prdc"), extractor=None, options={"kid": {"subsets": 5, "subset_size": 100}})
    b = Evaluator(
        ("kid", "prdc"), extractor=None, options={"kid": {"subsets": 5, "subset_size": 100}}, feature_dtype="float32"
    )
    for ev in (a, b):
        ev.update(x, real=True)
        ev.update(y)
    assert b.streams["kid"].states["fake"].tensor().dtype == torch.float32
    assert b.streams["kid"].states["fake"] is b.streams["prdc"].states["fake"]  # one copy of the rows
    ra, rb = a.compute(), b.compute()
    assert rb["kid"].value == pytest.approx(ra["kid"].value, rel=1e-4)


def test_real_from_stats_file_ref_and_featurestats(digits, tmp_path):
    real, fake = digits
    feats = ganeval.load_features(real, **EXTRACT)
    st = feats.need_stats()
    st.save(tmp_path / "real.npz")
    want = ganeval.evaluate(real, fake, ["fid"], **EXTRACT)["fid"].value
    for spec in (str(tmp_path / "real.npz"), st):
        ev = Evaluator(("fid",), extractor="digits", device="cpu", real=spec)
        ev.update(fake)
        assert ev.compute()["fid"].value == pytest.approx(want, rel=FID_REL)
    ev = Evaluator(("fid",), extractor="digits", device="cpu", real="ref:digits-test")
    ev.update(fake)
    assert ev.compute()["fid"].value > 0
    with pytest.raises(ParameterError, match="holds statistics .* only; kid need real feature rows"):
        Evaluator(("fid", "kid"), extractor="digits", device="cpu", real=str(tmp_path / "real.npz"))


def test_reset_and_state_dict(rng):
    x, y = rng.normal(size=(60, 3)), rng.normal(size=(50, 3))
    ev = Evaluator(("fid", "kid", "prdc"), extractor=None, real=x, options={"kid": {"subsets": 3}})
    ev.update(y)
    before = ev.compute()
    sd = ev.state_dict()
    other = Evaluator(("fid", "kid", "prdc"), extractor=None, options={"kid": {"subsets": 3}})
    other.load_state_dict(sd)
    after = other.compute()
    assert {m: r.values for m, r in before.items()} == {m: r.values for m, r in after.items()}
    ev.reset(keep_real=True)
    with pytest.raises(DataError, match="needs fake samples"):
        ev.compute()
    ev.update(y)
    assert ev.compute()["fid"].value == before["fid"].value
    with pytest.raises(ParameterError, match="holds metrics"):
        Evaluator(("fid",), extractor=None).load_state_dict(sd)


def test_image_size_may_change_between_updates(digits):
    real, fake = digits
    ev = Evaluator(("fid",), extractor="digits", device="cpu", real=real)
    ev.update(fake[:100])
    big = np.kron(fake[100:], np.ones((1, 2, 2), dtype=np.uint8))  # 16x16: resized by the extractor
    ev.update(big)
    assert ev.compute()["fid"].n_fake == 210


def test_bad_inputs(digits, rng):
    real, fake = digits
    ev = Evaluator(("fid", "is"), extractor="digits", device="cpu")
    with pytest.raises(InputError, match=r"value_range \[-1, 1\], got values in \[0, 2"):
        ev.update(torch.linspace(0, 2, 64).reshape(1, 1, 8, 8))
    with pytest.raises(InputError, match="have 2 channels"):
        ev.update(torch.zeros(2, 2, 8, 8))
    with pytest.raises(InputError, match="must be uint8 .* got dtype torch.int64"):
        ev.update(torch.zeros(2, 3, 8, 8, dtype=torch.int64))
    with pytest.raises(InputError, match="hold no pixels"):
        ev.update(torch.zeros(0, 3, 8, 8))
    with pytest.raises(InputError, match="value_range"):
        ev.update(torch.full((1, 3, 8, 8), float("nan")))
    with pytest.raises(DataError, match="needs fake samples"):
        ev.compute()
    rows = Evaluator(("fid", "kid"), extractor=None)
    rows.update(rng.normal(size=(10, 4)))
    with pytest.raises(DataError, match="has 5 features, earlier inputs had 4"):
        rows.update(rng.normal(size=(10, 5)), real=True)
    with pytest.raises(DataError, match="needs real and fake rows|real samples"):
        rows.compute()
    with pytest.raises(DataError, match="non-finite"):
        rows.update(np.full((3, 4), np.inf))
    fixed = Evaluator(("fid",), extractor=None, real=rng.normal(size=(10, 4)))
    with pytest.raises(ParameterError, match="real= was given"):
        fixed.update(rng.normal(size=(10, 4)), real=True)
    with pytest.raises(DataError, match="needs class logits"):
        Evaluator(("is",), extractor=None).update(rng.normal(size=(4, 3)))
    with pytest.raises(ParameterError, match="nested-f1.* takes labelled inputs .*cannot feed"):
        Evaluator(("fid", "nested-f1"), extractor=None)
    with pytest.raises(ParameterError, match="unknown metric 'fdi'"):
        Evaluator("fdi", extractor=None)
    with pytest.raises(ParameterError, match="value_range"):
        Evaluator(("fid",), extractor=None, value_range=(1, -1))
    with pytest.raises(ParameterError, match="options given for metrics not asked for"):
        Evaluator(("fid",), extractor=None, options={"kid": {}})
    with pytest.raises(ParameterError, match="extractor must be one of"):
        Evaluator(("fid",), extractor="vgg")


def test_update_overhead_is_the_network_only(digits):
    """features() is the bare extractor: update adds only bookkeeping on its output."""
    real, fake = digits
    ev = Evaluator(("fid", "kid", "prdc", "is"), extractor="digits", device="cpu")
    f, lg = ev.features(fake[:16])
    assert f.shape == (16, 64) and lg.shape == (16, 10)


def test_real_images_through_an_extractor_object(digits):
    from ganeval.features import get_extractor

    real, fake = digits
    ev = Evaluator(("fid",), extractor=get_extractor("digits"), device="cpu", real=real)
    ev.update(fake)
    want = ganeval.evaluate(real, fake, ["fid"], **EXTRACT)["fid"].value
    assert ev.compute()["fid"].value == pytest.approx(want, rel=FID_REL)
    with pytest.raises(ParameterError, match="holds images; extractor=None takes feature rows only"):
        Evaluator(("fid",), extractor=None, real=real)
