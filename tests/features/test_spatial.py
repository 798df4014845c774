"""ADM's sFID features: our one-pass "spatial" output equals pytorch-fid's network, hooked at
``Mixed_6d.branch1x1`` (the TF graph's ``mixed_6/conv:0``), under shared random weights.

pytorch-fid's model is built without downloading anything: its weight loader is replaced by
one returning our seeded random state dict (as in test_inception.py).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

pfi = pytest.importorskip("pytorch_fid.inception")
pfs = pytest.importorskip("pytorch_fid.fid_score")

from ganeval.errors import ParameterError
from ganeval.features import extract_features
from ganeval.features.inception import (
    SPATIAL_DIM,
    SPATIAL_LAYER,
    FIDInceptionV3,
    spatial_features,
)
from ganeval.metrics.fid import frechet_distance


@pytest.fixture(scope="module")
def ours() -> FIDInceptionV3:
    return FIDInceptionV3.random(seed=3)


@pytest.fixture(scope="module")
def reference_net(ours):
    """pytorch-fid's fid_inception_v3() with our weights (strict load)."""
    sd = {k: v.clone() for k, v in ours.state_dict().items()}
    mp = pytest.MonkeyPatch()
    mp.setattr(pfi, "load_state_dict_from_url", lambda *a, **k: sd)
    try:
        with torch.random.fork_rng():
            net = pfi.fid_inception_v3()
    finally:
        mp.undo()
    return net.eval()


def _reference_spatial(net, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """pytorch-fid's Mixed_6d.branch1x1 output (hooked), cut and flattened the way ADM's
    evaluator does with the TF tensor: ``spatial[..., :7]`` of NHWC, reshaped to (N, -1).
    Also returns the pool3 features of the same pass."""
    seen = {}
    layer = net.get_submodule(SPATIAL_LAYER)
    handle = layer.register_forward_hook(lambda m, i, o: seen.__setitem__("out", o.detach().clone()))
    mp = pytest.MonkeyPatch()
    mp.setattr(pfi, "fid_inception_v3", lambda: net)  # InceptionV3 wraps fid_inception_v3()
    try:
        model = pfi.InceptionV3([3], resize_input=False, normalize_input=False).eval()
        with torch.inference_mode():
            pool3 = model(x)[0].flatten(1)
    finally:
        mp.undo()
        handle.remove()
    nhwc = seen["out"].permute(0, 2, 3, 1).numpy()  # TF layout
    return torch.from_numpy(nhwc[..., :7].reshape(nhwc.shape[0], -1).copy()), pool3


@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    g = torch.Generator().manual_seed(11)
    # smooth-ish images: random low-resolution noise upsampled, in [-1, 1]
    low = torch.rand((6, 3, 23, 23), generator=g) * 2 - 1
    return torch.nn.functional.interpolate(low, size=(299, 299), mode="bilinear", align_corners=False)


@pytest.fixture(scope="module")
def both(ours, reference_net, images):
    with torch.inference_mode():
        out = ours(images)
    ref_spatial, ref_pool3 = _reference_spatial(reference_net, images)
    return out, ref_spatial, ref_pool3


def test_spatial_layer_is_mixed_6d_branch1x1_of_192_channels(ours):
    layer = ours.get_submodule(SPATIAL_LAYER)
    assert layer.conv.out_channels == 192 and layer.conv.kernel_size == (1, 1)
    assert SPATIAL_DIM == 2023


def test_spatial_equals_pytorch_fid_hooked_layer(both):
    out, ref, ref_pool3 = both
    ours = out["spatial"]
    assert ours.shape == (6, 2023) and ref.shape == (6, 2023)
    assert ours.std() > 0.05  # random weights give non-trivial activations
    rel = (ours - ref).norm() / ref.norm()
    assert rel < 1e-6
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-6)
    # one pass: pool3 of the same call equals pytorch-fid's too
    torch.testing.assert_close(out["pool3"], ref_pool3, rtol=0, atol=1e-5)


def test_spatial_order_is_nhwc_first_seven_channels():
    """Feature (h * 17 + w) * 7 + c is channel c at pixel (h, w); channels >= 7 are dropped."""
    x = torch.randn(2, 192, 17, 17, generator=torch.Generator().manual_seed(0))
    f = spatial_features(x)
    assert f.shape == (2, 2023)
    for h, w, c in [(0, 0, 0), (0, 1, 0), (1, 0, 6), (16, 16, 6), (5, 9, 3)]:
        assert f[1, (h * 17 + w) * 7 + c] == x[1, c, h, w]
    y = x.clone()
    y[:, 7:] = 0.0
    assert torch.equal(spatial_features(y), f)


def test_sfid_agrees_with_pytorch_fid_frechet_distance(both):
    """sFID (Fréchet distance of the spatial features) from our network equals the one computed
    on pytorch-fid's hooked features with pytorch-fid's own calculate_frechet_distance."""
    out, ref, _ = both
    fa, fb = out["spatial"][:3].double().numpy(), out["spatial"][3:].double().numpy()
    ra, rb = ref[:3].double().numpy(), ref[3:].double().numpy()
    # a 2023-D covariance of 3 samples is singular; project both sides on the same 2 axes
    # (the first principal axes of pytorch-fid's pooled features) to keep sqrtm well posed
    axes = np.linalg.svd(np.concatenate([ra, rb]) - np.concatenate([ra, rb]).mean(0), full_matrices=False)[2][:2].T

    def moments(x):
        p = x @ axes
        return p.mean(0), np.cov(p, rowvar=False)

    ours_value = frechet_distance(*moments(fa), *moments(fb))
    ref_value = pfs.calculate_frechet_distance(*moments(ra), *moments(rb))
    assert ours_value > 1e-3
    assert abs(ours_value - ref_value) <= 1e-6 * abs(ref_value)
    # and on the full 2023-D features: our distance from our features equals our distance
    # from pytorch-fid's hooked features, so the whole sFID pipeline sees the same numbers.
    # Every centred row and both means' difference lie in the span of the 12 rows' centred
    # copies and mean differences; in an orthonormal basis Q of that span (2023 x <= 12) the
    # distance is the same number (||Q'd||^2 = ||d||^2, tr Q'SQ = tr S, and
    # (S1^1/2 S2 S1^1/2)^1/2 = Q (A1^1/2 A2 A1^1/2)^1/2 Q' for S = Q A Q'), without two
    # 2023 x 2023 eigendecompositions per distance (test_fid covers singular covariances)
    span = np.concatenate(
        [x - x.mean(0) for x in (fa, fb, ra, rb)] + [[fa.mean(0) - fb.mean(0), ra.mean(0) - rb.mean(0)]]
    )
    u, s, vt = np.linalg.svd(span, full_matrices=False)
    q = vt[s > s[0] * 1e-12].T

    def full(a, b):
        for c in (a - a.mean(0), b - b.mean(0), a.mean(0) - b.mean(0)):  # nothing lies outside the span
            assert np.linalg.norm(c @ q @ q.T - c) <= 1e-9 * np.linalg.norm(c)
        pa, pb = a @ q, b @ q  # the means' difference and the covariances, in the basis Q
        return frechet_distance(pa.mean(0), np.cov(pa, rowvar=False), pb.mean(0), np.cov(pb, rowvar=False))

    full_ours, full_ref = full(fa, fb), full(ra, rb)
    assert full_ref > 1e-3 and abs(full_ours - full_ref) <= 1e-6 * abs(full_ref)


@pytest.mark.slow
def test_extract_features_spatial_output_cached(tmp_path, monkeypatch, ours):
    """extract_features(outputs=("spatial",)) returns and caches the spatial rows; a cached
    entry without them is recomputed; an unknown output is refused."""
    import ganeval.features as feats
    from ganeval.features.extractors import InceptionExtractor

    monkeypatch.setenv("GANEVAL_CACHE_DIR", str(tmp_path))
    sd = ours.state_dict()

    def factory(weights=None, preprocessing=None):
        return InceptionExtractor(preprocessing=preprocessing or "pytorch-fid", state_dict=sd)

    monkeypatch.setitem(feats._EXTRACTORS, "inception", factory)
    imgs = np.random.default_rng(0).integers(0, 256, size=(2, 40, 40, 3), dtype=np.uint8)
    plain = extract_features(imgs, extractor="inception", device="cpu", num_workers=0)
    assert plain.extras == {}
    # in-memory weights have no sha -> still cached by fingerprint; the entry lacks spatial
    out = extract_features(imgs, extractor="inception", device="cpu", num_workers=0, outputs=("spatial",))
    assert out.extras["spatial"].shape == (2, 2023)
    again = extract_features(imgs, extractor="inception", device="cpu", num_workers=0, outputs=("spatial",))
    np.testing.assert_array_equal(again.extras["spatial"], out.extras["spatial"])
    np.testing.assert_array_equal(again.features, plain.features)
    with pytest.raises(ParameterError, match="no output 'depth'"):
        extract_features(imgs, extractor="inception", device="cpu", num_workers=0, outputs=("depth",))
