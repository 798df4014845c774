"""Full float32 on CUDA by default, TF32 only when asked: the flag switch and its restore, the
plumbing through extract_features / run_extraction / Evaluator / evaluate / the CLI, what
results and the cache record. The flags are process-wide settings that can be read and set
on a CPU-only torch, so everything but the last (gpu) test runs here."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import ganeval
from ganeval.api import Features, evaluate
from ganeval.errors import ParameterError
from ganeval.features import engine, extract_features
from ganeval.features import precision as prec
from ganeval.features.cache import cache_key
from ganeval.features.precision import network_precision, precision_flags, uses_tf32
from ganeval.sources.images import ArrayImageSource

CUDA = torch.device("cuda")  # a device object needs no GPU; network_precision only reads its type
HAS_PER_OP = prec._per_op_api(torch) is not None


def _tree() -> dict[tuple[str, str], str]:
    """Every node of torch's per-operation precision tree, as stored."""
    if not HAS_PER_OP:
        return {}
    get, put = prec._per_op_api(torch)
    generic = ("generic", "all")
    out = {generic: get(*generic)}
    for backend in ("cuda", "mkldnn"):
        out[(backend, "all")] = prec._raw(get, put, (backend, "all"), generic, out[generic])
        for op in ("conv", "rnn", "matmul"):
            out[(backend, op)] = prec._raw(get, put, (backend, op), (backend, "all"), out[(backend, "all")])
    return out


@pytest.fixture(autouse=True)
def restore_torch_flags():
    """Whatever a test does to the process-wide flags is undone (torch's own setters)."""
    flags, tree = precision_flags(), _tree()
    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if flags["cudnn.allow_tf32"] is not None:
            torch.backends.cudnn.allow_tf32 = flags["cudnn.allow_tf32"]
        if flags["float32_matmul_precision"] is not None:
            torch.set_float32_matmul_precision(flags["float32_matmul_precision"])
        if tree:
            put = prec._per_op_api(torch)[1]
            for node in [("generic", "all"), ("cuda", "all"), ("mkldnn", "all")] + [n for n in tree if n[1] != "all"]:
                put(*node, tree[node])
    assert precision_flags() == flags


def _effective() -> dict[str, object]:
    """What a CUDA kernel would be told, through the public getters."""
    out = {
        "cudnn": torch.backends.cudnn.allow_tf32,
        "matmul": torch.backends.cuda.matmul.allow_tf32,
        "matmul_precision": torch.get_float32_matmul_precision(),
    }
    if HAS_PER_OP:
        out.update(
            conv=torch.backends.cudnn.conv.fp32_precision,
            rnn=torch.backends.cudnn.rnn.fp32_precision,
            cuda_matmul=torch.backends.cuda.matmul.fp32_precision,
        )
    return out


# -- the switch ------------------------------------------------------------------------------


def test_full_float32_inside_and_defaults_restored():
    before = precision_flags()
    with network_precision(CUDA):
        inside = _effective()
    assert inside["cudnn"] is False and inside["matmul"] is False and inside["matmul_precision"] == "highest"
    if HAS_PER_OP:
        assert (inside["conv"], inside["rnn"], inside["cuda_matmul"]) == ("ieee", "ieee", "ieee")
    assert precision_flags() == before


def test_tf32_inside_and_restored():
    before = precision_flags()
    with network_precision("cuda:0", tf32=True):
        inside = _effective()
    assert inside["cudnn"] is True and inside["matmul"] is True and inside["matmul_precision"] == "high"
    if HAS_PER_OP:
        assert (inside["conv"], inside["rnn"], inside["cuda_matmul"]) == ("tf32", "tf32", "tf32")
    assert precision_flags() == before


def test_restored_after_an_exception():
    before = precision_flags()
    with pytest.raises(KeyError):
        with network_precision(CUDA):
            assert torch.backends.cudnn.allow_tf32 is False
            raise KeyError("boom")
    assert precision_flags() == before
    assert torch.backends.cudnn.allow_tf32 == before["cudnn.allow_tf32"]


def test_users_own_settings_restored():
    """A training loop's TF32 everywhere (legacy API) comes back as it was, both ways."""
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = False
    before = precision_flags()
    assert before["float32_matmul_precision"] == "high" and before["cudnn.allow_tf32"] is False
    for tf32 in (False, True):
        with network_precision(CUDA, tf32=tf32):
            assert torch.backends.cuda.matmul.allow_tf32 is tf32
            assert torch.backends.cudnn.allow_tf32 is tf32
        assert precision_flags() == before
    assert torch.backends.cuda.matmul.allow_tf32 is True and torch.backends.cudnn.allow_tf32 is False
    torch.set_float32_matmul_precision("medium")
    with network_precision(CUDA):
        assert torch.get_float32_matmul_precision() == "highest"
    assert torch.get_float32_matmul_precision() == "medium"


@pytest.mark.skipif(not HAS_PER_OP, reason="this torch has no per-operation fp32_precision settings")
def test_inherited_settings_stay_inherited():
    """Per-op settings stored as "none" follow torch.backends.fp32_precision before and after:
    the switch neither lets the process-wide "tf32" in nor freezes the inherited value."""
    torch.backends.cudnn.conv.fp32_precision = "none"
    torch.backends.cudnn.rnn.fp32_precision = "none"
    torch.backends.cuda.matmul.fp32_precision = "none"
    torch.backends.fp32_precision = "tf32"
    tree = _tree()
    assert torch.backends.cudnn.conv.fp32_precision == "tf32"  # inherited
    with network_precision(CUDA):
        assert torch.backends.cudnn.conv.fp32_precision == "ieee"
        assert torch.backends.cuda.matmul.fp32_precision == "ieee"
    assert _tree() == tree
    torch.backends.fp32_precision = "ieee"  # still inherited after the pass
    assert torch.backends.cudnn.conv.fp32_precision == "ieee"
    assert torch.backends.cuda.matmul.fp32_precision == "ieee"


@pytest.mark.skipif(not HAS_PER_OP, reason="this torch has no per-operation fp32_precision settings")
def test_per_op_settings_restored_exactly():
    torch.backends.cudnn.conv.fp32_precision = "ieee"  # a mix torch itself refuses to summarise
    torch.backends.cuda.matmul.fp32_precision = "tf32"
    with pytest.raises(RuntimeError):
        torch.backends.cudnn.allow_tf32
    before, tree = precision_flags(), _tree()
    assert before["cudnn.allow_tf32"] is None
    for tf32 in (True, False):
        with network_precision(CUDA, tf32=tf32):
            want = "tf32" if tf32 else "ieee"
            assert (
                torch.backends.cudnn.conv.fp32_precision,
                torch.backends.cudnn.rnn.fp32_precision,
                torch.backends.cuda.matmul.fp32_precision,
            ) == (want, want, want)
        assert precision_flags() == before and _tree() == tree


def test_no_warnings_reach_the_user():
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for tf32 in (False, True):
            with network_precision(CUDA, tf32=tf32):
                pass
    assert [str(w.message) for w in seen] == []


def test_cpu_touches_nothing(monkeypatch):
    calls = []
    monkeypatch.setattr(prec, "_apply", lambda *a: calls.append(a))
    with network_precision(torch.device("cpu"), tf32=True):
        pass
    with network_precision("cpu"):
        pass
    assert calls == []
    assert uses_tf32("cpu", True) is False and uses_tf32(CUDA, True) is True and uses_tf32(CUDA, False) is False


# -- the plumbing ----------------------------------------------------------------------------


class _Probe:
    """A tiny extractor whose network records the cuDNN TF32 flag it was called under."""

    name = "probe"
    preprocessing = None
    seen: list = []

    def weights_sha256(self):
        return None

    def prepare(self, x):
        return x.float() / 255

    def build(self, device):
        def net(x):
            _Probe.seen.append(torch.backends.cudnn.allow_tf32)
            return {"f": x.mean(dim=(2, 3))}

        return net

    def split_outputs(self, out):
        return out["f"], None


def _images(n=6):
    return np.random.default_rng(0).integers(0, 256, size=(n, 8, 8, 3), dtype=np.uint8)


def test_run_extraction_wraps_each_pass(monkeypatch):
    calls = []
    real = prec.network_precision

    def spy(device, tf32=False):
        calls.append((str(device), tf32))
        return real(device, tf32)

    monkeypatch.setattr(prec, "network_precision", spy)
    src = ArrayImageSource("a", _images(6))
    f32, _, _ = engine.run_extraction(src, _Probe(), batch_size=4, device="cpu", num_workers=0)
    tf, _, _ = engine.run_extraction(src, _Probe(), batch_size=4, device="cpu", num_workers=0, tf32=True)
    assert calls == [("cpu", False)] * 2 + [("cpu", True)] * 2  # one switch per batch
    np.testing.assert_array_equal(f32, tf)
    with pytest.raises(ParameterError, match="tf32 must be True or False"):
        engine.run_extraction(src, _Probe(), device="cpu", num_workers=0, tf32="yes")


def test_tf32_on_cpu_records_nothing_and_changes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("GANEVAL_CACHE_DIR", str(tmp_path / "cache"))
    a = extract_features(_images(6), extractor="digits", num_workers=0)
    b = extract_features(_images(6), extractor="digits", num_workers=0, tf32=True)
    assert "tf32" not in a.info and "tf32" not in b.info
    assert b.info["cached"] is True  # same key on CPU: TF32 was not used
    np.testing.assert_array_equal(a.features, b.features)
    with pytest.raises(ParameterError, match="tf32 must be True or False"):
        extract_features("builtin:digits/test", tf32=1)


def _fake_cuda(monkeypatch):
    """extract_features believing it runs on CUDA (run_extraction replaced: no GPU here)."""
    runs = []

    def fake_run(src, ext, **kw):
        runs.append(kw["tf32"])
        x = np.full((len(src), 2), 1.0 + kw["tf32"])  # TF32 features differ from float32 ones
        return x, None, 0

    monkeypatch.setattr(engine, "resolve_device", lambda device="auto": CUDA)
    monkeypatch.setattr(engine, "run_extraction", fake_run)
    return runs


def test_cuda_tf32_recorded_and_cached_apart(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("GANEVAL_CACHE_DIR", str(cache))
    runs = _fake_cuda(monkeypatch)
    opts = dict(extractor="digits", num_workers=0)
    tf = extract_features(_images(6), tf32=True, **opts)
    assert tf.info["tf32"] is True and tf.info["cached"] is False
    full = extract_features(_images(6), **opts)  # not handed the TF32 entry
    assert "tf32" not in full.info and full.info["cached"] is False
    assert runs == [True, False] and len(list(cache.iterdir())) == 2
    again = extract_features(_images(6), tf32=True, **opts)
    assert again.info["cached"] is True and again.info["tf32"] is True
    np.testing.assert_array_equal(again.features, tf.features)
    assert float(extract_features(_images(6), **opts).features[0, 0]) == 1.0
    stored = json.loads(str(np.load(next(p for p in cache.iterdir()))["info"]))
    assert "cached" not in stored


def test_cache_key_precision_part():
    base = cache_key("fp", "inception", "w", "tf")
    assert cache_key("fp", "inception", "w", "tf", precision=None) == base
    assert cache_key("fp", "inception", "w", "tf", precision="tf32") != base


def test_evaluate_records_tf32_per_side(monkeypatch):
    rng = np.random.default_rng(0)
    info = {"extractor": "inception", "preprocessing": "tf", "weights_sha256": "w"}
    real = Features("real", rows=rng.normal(size=(50, 3)), info=dict(info))
    fake = Features("fake", rows=rng.normal(size=(50, 3)), info={**info, "tf32": True})
    s = evaluate(real, fake, ["fid"])["fid"].settings
    assert s["tf32"] is True and s["real_tf32"] is False and s["fake_tf32"] is True
    both = Features("real", rows=real.rows, info={**info, "tf32": True})
    s = evaluate(both, fake, ["fid"])["fid"].settings
    assert s["tf32"] is True and "real_tf32" not in s
    s = evaluate(real, Features("fake", rows=fake.rows, info=dict(info)), ["fid"])["fid"].settings
    assert not any("tf32" in k for k in s)


def test_evaluator_passes_and_records(monkeypatch):
    calls = []
    real = prec.network_precision
    monkeypatch.setattr(prec, "network_precision", lambda d, tf32=False: calls.append((str(d), tf32)) or real(d, tf32))
    x = torch.from_numpy(_images(20)).permute(0, 3, 1, 2)
    results = {}
    for tf32 in (False, True):
        ev = ganeval.Evaluator(("fid",), extractor=_Probe(), device="cpu", tf32=tf32)
        ev.update(x, real=True)
        ev.update(x.flip(0)[:, :, :, :])
        results[tf32] = ev.compute()["fid"]
    assert calls == [("cpu", False)] * 2 + [("cpu", True)] * 2
    assert "tf32" not in results[True].settings  # CPU: TF32 not used, nothing recorded
    assert results[True].value == results[False].value
    with pytest.raises(ParameterError, match="tf32"):
        ganeval.Evaluator(("fid",), extractor="digits", device="cpu", tf32="no")


def test_evaluator_records_tf32_on_cuda(monkeypatch):
    """The settings of an Evaluator on CUDA with tf32=True say so (construction only: no GPU)."""
    import ganeval.devices as devices
    import ganeval.evaluator as evaluator_mod

    monkeypatch.setattr(devices, "resolve_device", lambda device="auto": CUDA)
    monkeypatch.setattr(evaluator_mod, "prepare_group", lambda **kw: None)
    assert ganeval.Evaluator(("fid",), extractor="digits", tf32=True)._info["tf32"] is True
    assert "tf32" not in ganeval.Evaluator(("fid",), extractor="digits")._info


def test_cli_flag_reaches_the_api(monkeypatch):
    from ganeval_cli import metric_commands
    from ganeval_cli.main import cli

    seen = []

    def fake_evaluate(real, fake, metrics, **kw):
        seen.append(kw["tf32"])
        raise SystemExit(0)

    monkeypatch.setattr(metric_commands, "evaluate", fake_evaluate)
    for flag in ([], ["--tf32"]):
        r = CliRunner().invoke(cli, ["fid", "a.npy", "b.npy", *flag])
        assert r.exit_code == 0, r.output
    assert seen == [False, True]
    assert CliRunner().invoke(cli, ["vendi", "a.npy", "--tf32"]).exit_code == 0
    assert seen == [False, True, True]


# -- on a GPU --------------------------------------------------------------------------------


@pytest.mark.gpu
def test_cuda_full_float32_matches_cpu_and_tf32_is_recorded():
    from ganeval.features.extractors import InceptionExtractor
    from ganeval.features.inception import FIDInceptionV3

    assert torch.cuda.is_available()
    sd = FIDInceptionV3.random(seed=0).state_dict()
    ext = InceptionExtractor(state_dict=sd)
    g = np.random.default_rng(0)
    images = np.ascontiguousarray(np.repeat(np.repeat(g.integers(0, 256, (16, 3, 8, 8), dtype=np.uint8), 8, 2), 8, 3))
    src = ArrayImageSource("x", np.moveaxis(images, 1, -1))
    cpu, _, _ = engine.run_extraction(src, ext, batch_size=8, device="cpu", num_workers=0)
    torch.backends.cudnn.allow_tf32 = True  # PyTorch's default, stated: the user's setting
    before = precision_flags()
    gpu, _, _ = engine.run_extraction(src, ext, batch_size=8, device="cuda", num_workers=0)
    assert precision_flags() == before
    scale = np.abs(cpu).max()
    assert np.abs(gpu - cpu).max() <= 1e-5 * scale, np.abs(gpu - cpu).max() / scale
    tf, _, _ = engine.run_extraction(src, ext, batch_size=8, device="cuda", num_workers=0, tf32=True)
    if torch.cuda.get_device_capability()[0] >= 8:  # Ampere and later have TF32
        assert np.abs(tf - cpu).max() > np.abs(gpu - cpu).max()  # TF32 really ran
    ev = ganeval.Evaluator(("fid",), extractor=ext, device="cuda", tf32=True)
    x = torch.from_numpy(images)
    ev.update(x, real=True)
    ev.update(x.flip(0))
    assert ev.compute()["fid"].settings["tf32"] is True
    ev = ganeval.Evaluator(("fid",), extractor=ext, device="cuda")
    ev.update(x, real=True)
    ev.update(x.flip(0))
    assert "tf32" not in ev.compute()["fid"].settings
    assert precision_flags() == before


def test_a_torch_whose_settings_cannot_be_switched_still_runs_the_pass(monkeypatch):
    """Should a torch version refuse to read or set its precision settings, ganeval's pass
    still runs (at the process's settings), with one warning, never an exception."""
    import warnings

    import ganeval.features.precision as precision

    def refuse(*a, **k):
        raise RuntimeError("no such setting")

    monkeypatch.setattr(precision, "_WARNED", set())
    monkeypatch.setattr(precision, "precision_flags", refuse)
    ran = []
    with pytest.warns(RuntimeWarning, match="could not set the float32 precision"):
        with precision.network_precision(torch.device("cuda")):
            ran.append(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once only
        with precision.network_precision(torch.device("cuda")):
            ran.append(2)
    assert ran == [1, 2]

    monkeypatch.undo()
    monkeypatch.setattr(precision, "_WARNED", set())
    before = precision.precision_flags()
    real_apply = precision._apply
    calls = []

    def apply_once_failing(t, flags):
        calls.append(flags)
        if len(calls) == 1:
            raise TypeError("odd torch")
        real_apply(t, flags)

    monkeypatch.setattr(precision, "_apply", apply_once_failing)
    with pytest.warns(RuntimeWarning, match="odd torch"):
        with precision.network_precision(torch.device("cuda")):
            pass
    assert precision.precision_flags() == before  # restored
