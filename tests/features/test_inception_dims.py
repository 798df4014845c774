"""pytorch-fid's other Inception depths (--dims 64|192|768): equal to its output blocks 0, 1, 2
under the same random weights; the extractor ``inception:DIMS`` picks them."""

from __future__ import annotations

import pytest
import torch

pfi = pytest.importorskip("pytorch_fid.inception")

from ganeval.errors import ParameterError
from ganeval.features import get_extractor
from ganeval.features.extractors import InceptionExtractor
from ganeval.features.inception import BLOCK_DIMS, FIDInceptionV3


@pytest.fixture(scope="module")
def nets():
    ours = FIDInceptionV3.random(seed=1)
    sd = {k: v.clone() for k, v in ours.state_dict().items()}
    mp = pytest.MonkeyPatch()
    mp.setattr(pfi, "load_state_dict_from_url", lambda *a, **k: sd)
    try:
        with torch.random.fork_rng():
            model = pfi.InceptionV3([0, 1, 2, 3], resize_input=False, normalize_input=False)
    finally:
        mp.undo()
    return ours, model.eval()


def test_blocks_equal_pytorch_fid(nets):
    ours, theirs = nets
    x = torch.rand((2, 3, 299, 299), generator=torch.Generator().manual_seed(3)) * 2 - 1
    with torch.inference_mode():
        out = ours(x)
        ref = theirs(x)
    assert pfi.InceptionV3.BLOCK_INDEX_BY_DIM == {d: i for i, d in enumerate(BLOCK_DIMS)}
    for dims, block in zip(BLOCK_DIMS, ref):
        # pytorch-fid's get_activations: a block wider than 1x1 is average-pooled to 1x1
        expected = torch.nn.functional.adaptive_avg_pool2d(block, (1, 1)).flatten(1)
        got = out["pool3" if dims == 2048 else f"pool{dims}"]
        assert got.shape == (2, dims) and got.std() > 1e-3
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_extractor_names_and_outputs(nets):
    ours, _ = nets
    assert get_extractor("inception:768").name == "inception:768"
    assert get_extractor("inception:2048").name == "inception" and get_extractor("inception").dims == 2048
    ext = InceptionExtractor(state_dict=ours.state_dict(), dims=192)
    with torch.inference_mode():
        feats, logits = ext.split_outputs(ext.build("cpu")(torch.zeros(1, 3, 299, 299)))
    assert feats.shape == (1, 192) and logits.shape == (1, 1008)
    with pytest.raises(ParameterError, match="inception:DIMS takes DIMS in 64, 192, 768, 2048; got inception:100"):
        get_extractor("inception:100")
