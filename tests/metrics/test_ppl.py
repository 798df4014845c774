"""LPIPS-VGG against the ``lpips`` package under shared random weights; PPL by hand on
generators whose path length is known."""

import numpy as np
import pytest
import torch

from ganeval.errors import DataError, ParameterError
from ganeval.features.lpips import LPIPSVGG
from ganeval.metrics.ppl import perceptual_path_length, slerp
from ganeval.metrics.registry import get

SLICES = ((0, 4), (4, 9), (9, 16), (16, 23), (23, 30))  # lpips' vgg16 slices of torchvision's features


@pytest.fixture(scope="module")
def ours():
    return LPIPSVGG.random(seed=0)


@pytest.mark.filterwarnings("ignore:.*(pretrained|weight enum).*:UserWarning")  # lpips' torchvision call
def test_lpips_equals_the_lpips_package(ours):
    lpips = pytest.importorskip("lpips")
    with torch.random.fork_rng():
        ref = lpips.LPIPS(net="vgg", pretrained=True, pnet_rand=True, verbose=False).eval()
    sd = ours.state_dict()
    theirs = {}
    for key, v in sd.items():
        if key.startswith("features."):
            _, idx, name = key.split(".")
            k = next(i for i, (lo, hi) in enumerate(SLICES) if lo <= int(idx) < hi)
            theirs[f"net.slice{k + 1}.{idx}.{name}"] = v
        else:
            theirs[f"{key}.model.1.weight"] = v
    ref.load_state_dict({**ref.state_dict(), **theirs}, strict=True)
    g = torch.Generator().manual_seed(1)
    x0 = torch.rand((3, 3, 64, 64), generator=g) * 2 - 1
    x1 = (x0 + 0.3 * torch.randn((3, 3, 64, 64), generator=g)).clamp(-1, 1)
    with torch.inference_mode():
        got, want = ours(x0, x1), ref(x0, x1).flatten()
    assert got.min() > 0
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7)


def test_package_linear_weights_load_with_their_hash(tmp_path, monkeypatch):
    pytest.importorskip("lpips")
    from ganeval.errors import WeightsError
    from ganeval.features.lpips import LPIPS_VGG_LINEAR_SHA256, resolve_lpips_weights

    backbone = tmp_path / "vgg16-397923af.pth"
    backbone.write_bytes(b"not it")
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
    (tmp_path / "hub" / "checkpoints" / "vgg16-397923af.pth").write_bytes(b"not it")
    monkeypatch.delenv("GANEVAL_LPIPS_VGG_WEIGHTS", raising=False)
    with pytest.raises(WeightsError, match="does not start with 397923af"):
        resolve_lpips_weights()
    _, lin = resolve_lpips_weights(backbone)  # an explicit backbone is taken as given
    import hashlib

    assert hashlib.sha256(lin.read_bytes()).hexdigest() == LPIPS_VGG_LINEAR_SHA256


def test_slerp_stays_on_the_sphere_and_hits_the_ends():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn((5, 7), generator=g), torch.randn((5, 7), generator=g)
    for t in (0.0, 0.3, 1.0):
        s = slerp(a, b, torch.full((5, 1), t))
        torch.testing.assert_close(s.norm(dim=1), torch.ones(5))
    torch.testing.assert_close(slerp(a, b, torch.zeros(5, 1)), a / a.norm(dim=1, keepdim=True))
    torch.testing.assert_close(slerp(a, b, torch.ones(5, 1)), b / b.norm(dim=1, keepdim=True), atol=1e-5, rtol=0)


class _Linear:
    """Images that move linearly with the latent: LPIPS of a small step is quadratic in it."""

    latent_dim = 4

    def __init__(self, scale=1.0):
        g = torch.Generator().manual_seed(5)
        self.w = torch.randn((4, 3 * 16 * 16), generator=g) * 0.05 * scale

    def __call__(self, z):
        return torch.tanh(z @ self.w).view(-1, 3, 16, 16)


class _Constant:
    latent_dim = 3

    def __call__(self, z):
        return torch.zeros(z.shape[0], 3, 16, 16)


def test_ppl_by_hand_and_scaling(ours):
    # a constant generator has path length 0
    assert perceptual_path_length(_Constant(), latent_dim=3, num_samples=20, lpips=ours).value == 0.0
    # the reference loop, written out: slerp at t=0 and t=eps, LPIPS / eps^2, 1..99 percentile mean
    gen, eps = _Linear(), 1e-2
    g = torch.Generator().manual_seed(3)
    d = []
    for n in (8, 8, 4):
        t = torch.rand((n, 1), generator=g) * 0.0
        z0, z1 = torch.randn((2, n, 4), generator=g)
        img = gen(torch.cat([slerp(z0, z1, t), slerp(z0, z1, t + eps)]))
        d.append((ours(img[:n], img[n:]).double() / eps**2).numpy())
    d = np.concatenate(d)
    keep = (d >= np.percentile(d, 1, method="lower")) & (d <= np.percentile(d, 99, method="higher"))
    r = perceptual_path_length(gen, latent_dim=4, num_samples=20, batch_size=8, epsilon=eps, seed=3, lpips=ours)
    assert r.value == pytest.approx(d[keep].mean(), rel=1e-6) and r.n_kept == keep.sum()
    # LPIPS of a small step is quadratic in the step: halving epsilon keeps PPL (the / eps^2 scaling)
    r2 = perceptual_path_length(gen, latent_dim=4, num_samples=20, batch_size=8, epsilon=eps / 2, seed=3, lpips=ours)
    assert r2.value == pytest.approx(r.value, rel=0.1)


def test_w_space_crop_and_downsampling(ours, tmp_path, monkeypatch):
    # the registry path resolves the weights files: give it ours through the variables
    sd = ours.state_dict()
    torch.save({k: v for k, v in sd.items() if k.startswith("features.")}, tmp_path / "vgg.pth")
    torch.save({f"{k}.model.1.weight": v for k, v in sd.items() if k.startswith("lin")}, tmp_path / "lin.pth")
    monkeypatch.setenv("GANEVAL_LPIPS_VGG_WEIGHTS", str(tmp_path / "vgg.pth"))
    monkeypatch.setenv("GANEVAL_LPIPS_LINEAR_WEIGHTS", str(tmp_path / "lin.pth"))

    class Big:
        latent_dim = 4

        def __init__(self):
            self.lin = _Linear()

        def mapping(self, z):
            return 2.0 * z

        def __call__(self, w):
            small = self.lin(w)  # (N, 3, 16, 16) -> 128 x 128 by repetition
            return small.repeat_interleave(8, dim=2).repeat_interleave(8, dim=3)

    r = get("ppl")(Big(), num_samples=6, batch_size=3, space="w", crop=True, seed=1)
    assert r.value > 0 and set(r.settings["weights_sha256"]) == {"backbone", "linear"}
    # by hand: crop 128 -> rows 48..112, columns 32..96
    g = torch.Generator().manual_seed(1)
    big, d = Big(), []
    for _ in range(2):
        t = torch.rand((3, 1), generator=g) * 0.0
        z0, z1 = torch.randn((2, 3, 4), generator=g)
        w0, w1 = big.mapping(z0), big.mapping(z1)
        img = big(torch.cat([torch.lerp(w0, w1, t), torch.lerp(w0, w1, t + 1e-4)]))[:, :, 48:112, 32:96]
        d.append((ours(img[:3], img[3:]).double() / 1e-8).numpy())
    d = np.concatenate(d)
    keep = (d >= np.percentile(d, 1, method="lower")) & (d <= np.percentile(d, 99, method="higher"))
    assert r.value == pytest.approx(d[keep].mean(), rel=1e-5)


def test_downsampling_and_grey_images():
    from ganeval.metrics.ppl import prepare_ppl_images

    img = torch.arange(2 * 1 * 600 * 600, dtype=torch.float32).view(2, 1, 600, 600)
    out = prepare_ppl_images(img, crop=False)  # 600 // 256 = 2: 2x2 means, three channels
    assert out.shape == (2, 3, 300, 300)
    assert out[0, 2, 0, 0] == img[0, 0, :2, :2].mean()


def test_errors(ours):
    with pytest.raises(ParameterError, match="space='w' needs mapping"):
        perceptual_path_length(_Linear(), latent_dim=4, space="w", lpips=ours, num_samples=4)
    with pytest.raises(DataError, match="must return float images"):
        perceptual_path_length(lambda z: z, latent_dim=4, lpips=ours, num_samples=4)
    with pytest.raises(ParameterError, match="latent_dim"):
        get("ppl")(lambda z: z)
