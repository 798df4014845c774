"""FID Inception v3: equal to pytorch-fid's network under the same (random) weights.

pytorch-fid's model is built without downloading anything: its weight loader is replaced by
one returning our seeded random state dict, and the (default) initialisation it runs is
wrapped in ``torch.random.fork_rng`` so the global RNG is left as it was.
"""

from __future__ import annotations

import copy
import fractions

import pytest
import torch

pfi = pytest.importorskip("pytorch_fid.inception")

from ganeval.errors import DataError, WeightsError
from ganeval.features.inception import FIDInceptionV3, _random_state_dict


@pytest.fixture(scope="module")
def ours() -> FIDInceptionV3:
    return FIDInceptionV3.random(seed=0)


@pytest.fixture(scope="module")
def pytorch_fid_inception(ours):
    """pytorch-fid's fid_inception_v3() loaded (strictly) with our state dict."""
    sd = {k: v.clone() for k, v in ours.state_dict().items()}
    mp = pytest.MonkeyPatch()
    mp.setattr(pfi, "load_state_dict_from_url", lambda *a, **k: sd)
    try:
        with torch.random.fork_rng():
            net = pfi.fid_inception_v3()
    finally:
        mp.undo()
    return net.eval()


@pytest.fixture(scope="module")
def pytorch_fid_model(pytorch_fid_inception):
    """pytorch-fid's InceptionV3 feature model (pool3 block), inputs already in [-1, 1]."""
    mp = pytest.MonkeyPatch()
    mp.setattr(pfi, "fid_inception_v3", lambda: pytorch_fid_inception)
    try:
        model = pfi.InceptionV3([3], resize_input=False, normalize_input=False)
    finally:
        mp.undo()
    return model.eval()


@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    g = torch.Generator().manual_seed(7)
    return torch.rand((3, 3, 299, 299), generator=g) * 2 - 1


@pytest.fixture(scope="module")
def our_out(ours, images):
    with torch.inference_mode():
        return ours(images)


def test_pool3_equals_pytorch_fid(our_out, pytorch_fid_model, images):
    with torch.inference_mode():
        ref = pytorch_fid_model(images)[0].flatten(1)
    assert our_out["pool3"].shape == (3, 2048)
    assert our_out["pool3"].std() > 0.1  # the random weights give non-trivial features
    torch.testing.assert_close(our_out["pool3"], ref, rtol=0, atol=1e-5)


def test_logits_are_fc_without_bias(ours, our_out):
    pool3, logits = our_out["pool3"], our_out["logits"]
    assert logits.shape == (3, 1008)
    torch.testing.assert_close(logits, pool3 @ ours.fc.weight.T, rtol=1e-6, atol=1e-5)
    # and not the biased fc output (the random fc bias is far from zero)
    assert (ours.fc(pool3) - logits - ours.fc.bias).abs().max() < 1e-4
    assert ours.fc.bias.abs().max() > 0.5


def test_state_dict_layout_is_pytorch_fid(ours, pytorch_fid_inception):
    ref_keys = set(pytorch_fid_inception.state_dict())
    assert set(ours.state_dict()) == ref_keys
    # and a state dict taken from pytorch-fid's network loads into ours unchanged
    net = FIDInceptionV3(state_dict=pytorch_fid_inception.state_dict())
    for k, v in pytorch_fid_inception.state_dict().items():
        assert torch.equal(net.state_dict()[k], v), k


def test_state_dict_without_batch_counters_loads(ours):
    sd = {k: v for k, v in ours.state_dict().items() if not k.endswith("num_batches_tracked")}
    net = FIDInceptionV3(state_dict=sd)
    assert torch.equal(net.fc.weight, ours.fc.weight)


def test_channels_last_and_batch_of_one_agree(ours, images, our_out):
    net = copy.deepcopy(ours).to(memory_format=torch.channels_last)
    with torch.inference_mode():
        out = net(images[:1])
    torch.testing.assert_close(out["pool3"], our_out["pool3"][:1], rtol=1e-4, atol=1e-4)


def test_weights_file_round_trip(ours, tmp_path):
    path = tmp_path / "pt_inception-2015-12-05-6726825d.pth"
    torch.save(ours.state_dict(), path)
    net = FIDInceptionV3(path)
    assert net.weights_path == path
    assert not net.training and not any(p.requires_grad for p in net.parameters())
    for k, v in ours.state_dict().items():
        assert torch.equal(net.state_dict()[k], v), k


def _saved(tmp_path, obj, name="bad.pth"):
    path = tmp_path / name
    torch.save(obj, path)
    return path


@pytest.fixture(scope="module")
def light_state_dict(ours):
    """Every key with the right shape, each tensor a stride-0 view of one element: the files
    saved from it are a few hundred kB instead of 95 MB, and the key/shape checks see the same."""
    return {k: torch.zeros((), dtype=v.dtype).expand(v.shape) for k, v in ours.state_dict().items()}


def test_light_state_dict_passes_the_checks(light_state_dict, tmp_path):
    net = FIDInceptionV3(_saved(tmp_path, light_state_dict, "light.pth"))
    assert float(net.fc.weight.abs().sum()) == 0.0


def test_wrong_shape_is_a_weights_error_naming_the_file(light_state_dict, tmp_path):
    sd = dict(light_state_dict)
    sd["Mixed_6c.branch7x7_2.conv.weight"] = torch.zeros(1).expand(160, 160, 7, 1)  # (1, 7) kernel expected
    path = _saved(tmp_path, sd)
    with pytest.raises(WeightsError, match=r"bad\.pth.*Mixed_6c\.branch7x7_2\.conv\.weight.*\(160, 160, 7, 1\)"):
        FIDInceptionV3(path)


def test_missing_and_unexpected_keys(light_state_dict, tmp_path):
    sd = dict(light_state_dict)
    del sd["Mixed_7c.branch_pool.conv.weight"]
    with pytest.raises(WeightsError, match=r"bad\.pth.*missing.*Mixed_7c\.branch_pool\.conv\.weight"):
        FIDInceptionV3(_saved(tmp_path, sd))
    sd = dict(light_state_dict)
    sd["AuxLogits.fc.weight"] = torch.zeros(3)
    with pytest.raises(WeightsError, match=r"other\.pth.*unexpected.*AuxLogits"):
        FIDInceptionV3(_saved(tmp_path, sd, "other.pth"))


def test_torchvision_imagenet_layout_is_rejected(light_state_dict, tmp_path):
    # torchvision's own Inception3 has 1000 classes: right keys, wrong fc shapes
    sd = dict(light_state_dict)
    sd["fc.weight"], sd["fc.bias"] = torch.zeros(1000, 2048), torch.zeros(1000)
    with pytest.raises(WeightsError, match=r"wrong shape for 'fc\.(weight|bias)'"):
        FIDInceptionV3(_saved(tmp_path, sd))


@pytest.mark.parametrize(
    "content, pattern",
    [
        (b"", "cannot be read"),
        (b"not a torch file at all", "cannot be read"),
    ],
)
def test_unreadable_files(tmp_path, content, pattern):
    path = tmp_path / "w.pth"
    path.write_bytes(content)
    with pytest.raises(WeightsError, match=rf"w\.pth.*{pattern}"):
        FIDInceptionV3(path)


def test_not_a_state_dict_and_pickled_objects(tmp_path):
    with pytest.raises(WeightsError, match=r"list\.pth.*state dict.*list"):
        FIDInceptionV3(_saved(tmp_path, [torch.zeros(1)], "list.pth"))
    # weights_only=True refuses arbitrary pickled objects
    with pytest.raises(WeightsError, match=r"obj\.pth.*cannot be read"):
        FIDInceptionV3(_saved(tmp_path, {"x": fractions.Fraction(1, 3)}, "obj.pth"))


def test_missing_file_and_both_sources(ours, tmp_path):
    with pytest.raises(WeightsError, match=r"nope\.pth.*does not exist"):
        FIDInceptionV3(tmp_path / "nope.pth")
    with pytest.raises(WeightsError, match="not both"):
        FIDInceptionV3(tmp_path / "x.pth", state_dict=ours.state_dict())


def test_non_tensor_entry(ours):
    sd = dict(ours.state_dict())
    sd["fc.bias"] = [0.0] * 1008
    with pytest.raises(WeightsError, match=r"state_dict.*fc\.bias.*list"):
        FIDInceptionV3(state_dict=sd)


def test_bad_forward_input(ours):
    with pytest.raises(DataError, match="uint8"):
        ours(torch.zeros(1, 3, 299, 299, dtype=torch.uint8))
    with pytest.raises(DataError, match=r"\(1, 1, 299, 299\)"):
        ours(torch.zeros(1, 1, 299, 299))


def test_random_weights_are_seeded_and_leave_global_rng_alone(ours):
    state = torch.get_rng_state()
    again = FIDInceptionV3.random(seed=0)
    assert torch.equal(torch.get_rng_state(), state)
    for k, v in ours.state_dict().items():
        assert torch.equal(again.state_dict()[k], v), k
    other = _random_state_dict({"fc.weight": ours.fc.weight}, seed=1)
    assert not torch.equal(other["fc.weight"], _random_state_dict({"fc.weight": ours.fc.weight}, seed=0)["fc.weight"])


def test_end_to_end_equals_pytorch_fid_on_uint8_images(ours, pytorch_fid_inception):
    """preprocess(x, "pytorch-fid") + ours == pytorch-fid's InceptionV3 (resize + normalise inside)
    on the x / 255 its fid_score feeds it."""
    from ganeval.features.preprocessing import preprocess

    mp = pytest.MonkeyPatch()
    mp.setattr(pfi, "fid_inception_v3", lambda: pytorch_fid_inception)
    try:
        model = pfi.InceptionV3([3], resize_input=True, normalize_input=True).eval()
    finally:
        mp.undo()
    g = torch.Generator().manual_seed(11)
    x = torch.randint(0, 256, (2, 3, 40, 56), generator=g, dtype=torch.uint8)
    with torch.inference_mode():
        ref = model(x.float() / 255)[0].flatten(1)
        out = ours(preprocess(x, "pytorch-fid"))["pool3"]
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-5)
