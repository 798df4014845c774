"""Samples in are samples read (issue 17, class 3) and one streaming base (issue 16, item 3):
hostile Python-API cases: reused buffers, non-finite samples and weights, value ranges,
layouts, states from another configuration, complex features, a tampered cache entry,
options that do not apply; every streamable registered metric through the Evaluator."""

import warnings

import numpy as np
import pytest
import torch

import ganeval
from ganeval import DataError, Evaluator, InputError, ParameterError
from ganeval.features.digits import digits_images
from ganeval.generators import open_generator
from ganeval.images import ValueRangeWarning, channel_axis, images_to_uint8
from ganeval.metrics.registry import metrics as registered
from ganeval.streaming import StreamingMetric, stream_kind

EXTRACT = dict(extractor="digits", cache=False, device="cpu", num_workers=0)


@pytest.fixture(scope="module")
def digits():
    return digits_images("train")[:120], digits_images("test")[:100]


# -- one streaming base: every streamable registered metric ----------------------------------

STREAMABLE = [
    m
    for m, metric in registered().items()
    if metric.takes in ("two-sample", "moments", "logits", "one-sample", "train-fake")
]


@pytest.mark.parametrize("name", STREAMABLE)
def test_every_streamable_metric_equals_the_metric(name):
    """Fed in uneven batches through the Evaluator (one shared state per kind and side),
    each metric equals the registered metric called on all rows at once."""
    metric = registered()[name]
    g = np.random.default_rng(3)
    x, y = g.normal(size=(60, 3)), g.normal(size=(50, 3)) + 0.5
    logits = g.normal(size=(50, 4))
    opts = dict(metric.test_options)
    ev = Evaluator(name, extractor=None, options={name: opts})
    takes_real = len(metric.inputs()) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lo in range(0, 60, 17):
            if takes_real:
                ev.update(x[lo : lo + 17], real=True)
        for lo in range(0, 50, 13):
            ev.update(y[lo : lo + 13], logits=logits[lo : lo + 13])
        got = ev.compute()[name]
        want = metric(*((x, y) if takes_real else (logits if metric.takes == "logits" else y,)), **opts)
    _close(got.values, want.values, name)
    assert (got.n_real, got.n_fake) == (want.n_real, want.n_fake)


def _close(got, want, where):
    if isinstance(want, dict):
        assert set(got) == set(want), where
        for key in want:
            _close(got[key], want[key], f"{where}.{key}")
    elif isinstance(want, (list, tuple)) and want and isinstance(want[0], dict):
        assert len(got) == len(want), where
        for i, (a, b) in enumerate(zip(got, want)):
            _close(a, b, f"{where}[{i}]")
    elif isinstance(want, (int, float, list, tuple)) and not isinstance(want, bool):
        np.testing.assert_allclose(np.asarray(got, float), np.asarray(want, float), rtol=1e-9, err_msg=where)
    else:
        assert got == want, where


def test_labelled_metrics_are_refused_with_the_reason():
    with pytest.raises(ParameterError, match=r"nested-f1.*labelled.*ganeval.evaluate"):
        Evaluator(["fid", "nested-f1"], extractor=None)
    with pytest.raises(ParameterError, match="labelled"):
        stream_kind("nested-f1")


def test_one_name_and_validated_options(rng):
    ev = Evaluator("fid", extractor=None)  # one metric, not the letters f, i, d
    assert ev.metrics == ("fid",)
    with pytest.raises(ParameterError, match=r"unknown option 'subset' \(did you mean 'subsets'\?\)"):
        Evaluator(["kid"], extractor=None, options={"kid": {"subset": 5}})
    with pytest.raises(ParameterError, match="option subsets must be an integer >= 1"):
        Evaluator(["kid"], extractor=None, options={"kid": {"subsets": 0}})
    s = StreamingMetric("ecdf")
    assert s.kind == "rows" and s.metric.streaming is None  # rows metrics stream by keeping rows
    with pytest.raises(ParameterError, match=r"cannot merge StreamingMetric \(mmd\) into StreamingMetric \(ecdf\)"):
        s.merge(StreamingMetric("mmd"))


def test_memorization_uses_the_real_side_as_training_set(rng):
    train = rng.normal(size=(40, 3))
    ev = Evaluator(["memorization"], extractor=None, real=train)
    ev.update(train[:10] + 1e-9)
    r = ev.compute()["memorization"]
    assert r.values == ganeval.metrics.memorization.memorization(train, train[:10] + 1e-9).values
    assert r.n_real == 40


# -- kept rows are copies -------------------------------------------------------------------


def test_one_reused_buffer_gives_evaluates_numbers(rng):
    x, y = rng.normal(size=(200, 4)), rng.normal(size=(200, 4)) * 1.3 + 0.2
    opts = {"kid": {"subsets": 10, "subset_size": 50}, "prdc": {"k": 3}}
    ev = Evaluator(["fid", "kid", "prdc", "mmd"], extractor=None, options=opts)
    buf_np = np.empty((20, 4))
    buf_t = torch.empty(20, 4, dtype=torch.float64)
    for lo in range(0, 200, 20):
        buf_np[:] = x[lo : lo + 20]
        ev.update(buf_np, real=True)
        buf_t.copy_(torch.from_numpy(y[lo : lo + 20]))
        ev.update(buf_t)
    got = ev.compute()
    want = ganeval.evaluate(x, y, ["fid", "kid", "prdc", "mmd"], options=opts)
    assert got["kid"].values == want["kid"].values and got["prdc"].values == want["prdc"].values
    assert got["mmd"].values == pytest.approx(want["mmd"].values, rel=1e-12)
    assert got["fid"].value == pytest.approx(want["fid"].value, rel=1e-9)


def test_a_generator_reusing_one_buffer_gives_the_true_value(rng):
    table = rng.normal(size=(100, 3))
    buf = torch.empty(10, 3, dtype=torch.float64)
    calls = iter(range(10))

    def rows(n, gen):
        i = next(calls)
        buf.copy_(torch.from_numpy(table[10 * i : 10 * i + 10]))
        return buf

    src = open_generator(rows, num_samples=100, batch_size=10)
    assert np.array_equal(src.array, table)
    img_buf = torch.empty(4, 3, 8, 8, dtype=torch.uint8)
    counter = iter(range(100))

    def images(n, gen):
        img_buf.fill_(next(counter))
        return img_buf

    batches = list(open_generator(images, num_samples=12, batch_size=4).iter_batches(4))
    assert [int(b[0, 0, 0, 0]) for b in batches] == [0, 1, 2]


# -- non-finite samples and weights ---------------------------------------------------------


def test_non_finite_generator_outputs_are_errors():
    with pytest.raises(InputError, match=r"batch 0 contains \d+ NaN or Inf"):
        open_generator(lambda n, g: torch.tensor([[0.0, float("nan")]] * n), num_samples=3)
    with pytest.raises(InputError, match="non-finite value"):
        open_generator(lambda n, g: torch.full((n, 3, 8, 8), float("inf")), num_samples=3)


def test_checkpoint_with_nan_weights_names_the_checkpoint(tmp_path):
    from ganeval.reference import TrainConfig, train

    train(TrainConfig(data="digits", loss="hinge", steps=2, batch_size=8, width=8, eval_every=0), tmp_path)
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    for key in ("generator", "generator_ema"):
        for t in state[key].values():
            if t.is_floating_point():
                t.fill_(float("nan"))
    torch.save(state, tmp_path / "nan.pt")
    with pytest.raises(InputError, match=r"checkpoint .*nan\.pt: the generator weights hold \d+ non-finite"):
        open_generator(tmp_path / "nan.pt", num_samples=5)


# -- value ranges ---------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [(-1e308, 1e308), (0, float("inf")), (1, 1), (1, -1), "0,1"])
def test_value_range_finite_with_finite_positive_width(bad):
    for make in (
        lambda: Evaluator("fid", extractor=None, value_range=bad),
        lambda: open_generator(lambda n, g: torch.zeros(n, 3, 8, 8), num_samples=2, value_range=bad),
        lambda: ganeval.evaluate(np.zeros((4, 2)), np.ones((4, 2)), ["fid"], value_range=bad),
    ):
        with pytest.raises(ParameterError, match="value_range"):
            make()


def test_one_float_convention_for_evaluate_and_the_evaluator(digits):
    real, fake = digits
    as_float = fake.astype(np.float64) / 255.0 * 2.0 - 1.0  # exact in float64, in the default (-1, 1)
    a = ganeval.evaluate(real, fake, ["fid"], **EXTRACT)["fid"].value
    b = ganeval.evaluate(real, as_float, ["fid"], **EXTRACT)["fid"].value  # evaluate reads [-1, 1] floats
    ev = Evaluator("fid", extractor="digits", device="cpu", real=real)
    ev.update(torch.from_numpy(as_float))
    assert a == b and ev.compute()["fid"].value == pytest.approx(a, rel=1e-7)
    unit = fake.astype(np.float64) / 255.0
    assert ganeval.evaluate(real, unit, ["fid"], value_range=(0, 1), **EXTRACT)["fid"].value == a
    with pytest.warns(ValueRangeWarning, match=r"span only \[0, 1\].*value_range=\(0, 1\)"):
        Evaluator("fid", extractor="digits", device="cpu").update(unit)
    with pytest.warns(ValueRangeWarning):
        ganeval.evaluate(real, unit, ["fid"], **EXTRACT)


# -- one layout rule ------------------------------------------------------------------------


def test_one_layout_rule(rng):
    nhwc = rng.integers(0, 256, (6, 4, 4, 3), dtype=np.uint8)
    nchw = np.ascontiguousarray(np.moveaxis(nhwc, -1, 1))
    assert channel_axis(nhwc.shape) == 3 and channel_axis(nchw.shape) == 1
    assert torch.equal(images_to_uint8(nhwc, "a"), images_to_uint8(nchw, "b"))
    ev = Evaluator("fid", extractor="digits", device="cpu")
    f1, _ = ev.features(nhwc)
    f2, _ = ev.features(nchw)
    from ganeval.sources import open_source

    batch = next(open_source(nhwc).iter_batches(10))
    assert np.array_equal(batch, nchw) and torch.equal(f1, f2)
    red = np.zeros((2, 1, 1, 3), np.uint8)
    red[..., 0] = 255
    assert images_to_uint8(red, "red")[:, :, 0, 0].tolist() == [[255, 0, 0]] * 2  # red, not white
    ambiguous = rng.integers(0, 256, (2, 3, 8, 3), dtype=np.uint8)
    for read in (
        lambda **kw: images_to_uint8(ambiguous, "amb", **kw),
        lambda **kw: open_source(ambiguous, **kw),
        lambda **kw: Evaluator("fid", extractor="digits", device="cpu", **kw).features(ambiguous),
    ):
        with pytest.raises(InputError, match="could be NCHW .* or NHWC .*pass layout="):
            read()
    assert images_to_uint8(ambiguous, "amb", layout="NHWC").shape == (2, 3, 3, 8)
    assert images_to_uint8(ambiguous, "amb", layout="NCHW").shape == (2, 3, 8, 3)
    with pytest.raises(ParameterError, match="layout must be one of"):
        images_to_uint8(ambiguous, "amb", layout="CHW")


# -- states from another configuration ------------------------------------------------------


def test_state_dict_from_another_configuration_is_refused(rng):
    x, x2, y = rng.normal(size=(30, 4)), rng.normal(size=(30, 4)), rng.normal(size=(30, 4))
    ev = Evaluator(["fid", "kid"], extractor=None, real=x, options={"kid": {"subsets": 3, "subset_size": 10}})
    ev.update(y)
    sd = ev.state_dict()
    assert sd["config"]["extractor"] is None and sd["real_fingerprint"] and sd["options"]["kid"]["subsets"] == 3
    other_real = Evaluator(["fid", "kid"], extractor=None, real=x2, options={"kid": {"subsets": 3, "subset_size": 10}})
    with pytest.raises(
        ParameterError,
        match="made with real set 'real' .fingerprint .*this Evaluator's real set is 'real' .fingerprint",
    ):
        other_real.load_state_dict(sd)
    with pytest.raises(ParameterError, match=r"kid options .*'subsets': 3.*this Evaluator has .*'subsets': 4"):
        Evaluator(["fid", "kid"], extractor=None, options={"kid": {"subsets": 4, "subset_size": 10}}).load_state_dict(
            sd
        )
    digits_ev = Evaluator(
        ["fid", "kid"], extractor="digits", device="cpu", options={"kid": {"subsets": 3, "subset_size": 10}}
    )
    with pytest.raises(ParameterError, match="made with extractor None, this Evaluator uses 'digits'"):
        digits_ev.load_state_dict(sd)
    fresh = Evaluator(["fid", "kid"], extractor=None, options={"kid": {"subsets": 3, "subset_size": 10}})
    fresh.load_state_dict(sd)  # no real set of its own: takes the state's
    assert fresh.compute()["fid"].value == ev.compute()["fid"].value
    with pytest.raises(ParameterError, match="real= was given"):
        fresh.update(x, real=True)


# -- complex features, options that do not apply, KID std, cache ----------------------------


def test_complex_features_are_refused_everywhere(tmp_path, rng):
    z = rng.normal(size=(10, 3)) + 1j
    with pytest.raises(DataError, match="complex"):
        ganeval.fid_from_features(z, z.real)
    with pytest.raises((DataError, InputError), match="complex"):
        ganeval.evaluate(z, z.real, ["fid"])
    with pytest.raises(DataError, match="complex"):
        Evaluator("fid", extractor=None).update(z)
    np.savez(tmp_path / "c.npz", mu=np.zeros(3) + 0j, sigma=np.eye(3) + 0j)
    with pytest.raises((DataError, InputError), match=r"c\.npz.*complex"):
        ganeval.evaluate(str(tmp_path / "c.npz"), rng.normal(size=(10, 3)), ["fid"])


def test_preprocessing_that_does_not_apply_is_refused():
    with pytest.raises(ParameterError, match="preprocessing 'clean' does not apply to the digits extractor"):
        Evaluator("fid", extractor="digits", preprocessing="clean", device="cpu")
    with pytest.raises(ParameterError, match="does not apply"):
        ganeval.evaluate(
            "builtin:digits/train",
            "builtin:digits/test",
            ["fid"],
            extractor="digits",
            preprocessing="clean",
            cache=False,
        )


def test_kid_subsets_as_large_as_a_set_warn(rng):
    x, y = rng.normal(size=(30, 3)), rng.normal(size=(40, 3))
    with pytest.warns(ganeval.errors.DegenerateWarning, match="std .* does not measure"):
        ganeval.kernel_inception_distance(x, y, subsets=5)  # default subset size: 30 = n_real
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ganeval.kernel_inception_distance(x, y, subsets=5, subset_size=20)


def test_a_cache_entry_rewritten_with_fewer_rows_is_recomputed(tmp_path, monkeypatch, digits):
    from ganeval.features import cache

    monkeypatch.setenv("GANEVAL_CACHE_DIR", str(tmp_path / "cache"))
    src = digits[1]  # an in-memory array: cached by its content
    first = ganeval.load_features(src, extractor="digits", device="cpu", num_workers=0)
    (entry,) = (tmp_path / "cache").glob("features-*.npz")
    with np.load(entry) as data:
        arrays = dict(data)
    n = first.rows.shape[0]
    # 1) fewer rows, the stored count and checksum kept: the checksum no longer matches
    np.savez(entry, **{**arrays, "features": arrays["features"][:50], "logits": arrays["logits"][:50]})
    assert cache.load_entry(entry.stem[len("features-") :]) is None
    again = ganeval.load_features(src, extractor="digits", device="cpu", num_workers=0)
    assert again.rows.shape[0] == n and np.array_equal(again.rows, first.rows) and not again.info["cached"]
    # 2) fewer rows with a consistent count and checksum: the source's image count disagrees
    f, lg = arrays["features"][:50], arrays["logits"][:50]
    np.savez(
        entry,
        **{
            **arrays,
            "features": f,
            "logits": lg,
            "rows": np.array(50),
            "checksum": np.array(cache.entry_checksum(f, lg)),
        },
    )
    third = ganeval.load_features(src, extractor="digits", device="cpu", num_workers=0)
    assert third.rows.shape[0] == n and not third.info["cached"]
    fourth = ganeval.load_features(src, extractor="digits", device="cpu", num_workers=0)
    assert fourth.info["cached"] and fourth.rows.shape[0] == n
