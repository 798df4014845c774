"""The CLIP extractor: against the OpenAI CLIP image tower (torch-fidelity's copy), checkpoint
layouts, CMMD's preprocessing, L2 normalisation, weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from ganeval.errors import ParameterError, WeightsError
from ganeval.features import extract_features, get_extractor
from ganeval.features.preprocessing import CLIP_MEAN, CLIP_STD, preprocess_vit
from ganeval.features.vit import (
    CLIP_ARCHS,
    CLIPExtractor,
    build_vit,
    convert_clip_state_dict,
    random_original_state_dict,
)
from ganeval.features.weights import file_sha256

pytest.importorskip("timm")


def _fp16_exact(sd: dict) -> dict:
    """torch-fidelity stores CLIP weights in float16: round ours the same way so both agree."""
    return {k: v.half().float() for k, v in sd.items()}


def _openai_visual(sd: dict):
    """OpenAI's CLIP image tower as torch-fidelity ships it (clip/model.py), with ``sd`` loaded."""
    tfc = pytest.importorskip("torch_fidelity.feature_extractor_clip")
    with torch.random.fork_rng():  # its constructor draws placeholder weights from the global RNG
        model = tfc.build_model(dict(sd), torch.float32)
    return model.visual


def _to_transformers_layout(sd: dict) -> dict:
    """OpenAI's layout -> Hugging Face transformers' CLIPModel layout (openai/clip-vit-*)."""
    v = {k[len("visual.") :]: t for k, t in sd.items() if k.startswith("visual.")}
    out = {
        "vision_model.embeddings.class_embedding": v["class_embedding"],
        "vision_model.embeddings.patch_embedding.weight": v["conv1.weight"],
        "vision_model.embeddings.position_embedding.weight": v["positional_embedding"],
        "vision_model.embeddings.position_ids": torch.arange(v["positional_embedding"].shape[0])[None],
        "vision_model.pre_layrnorm.weight": v["ln_pre.weight"],
        "vision_model.pre_layrnorm.bias": v["ln_pre.bias"],
        "vision_model.post_layernorm.weight": v["ln_post.weight"],
        "vision_model.post_layernorm.bias": v["ln_post.bias"],
        "visual_projection.weight": v["proj"].t().contiguous(),
        "logit_scale": torch.tensor(4.6),
    }
    i = 0
    while f"transformer.resblocks.{i}.ln_1.weight" in v:
        p, q = f"transformer.resblocks.{i}.", f"vision_model.encoder.layers.{i}."
        for t in ("weight", "bias"):
            out[q + f"layer_norm1.{t}"] = v[p + f"ln_1.{t}"]
            out[q + f"layer_norm2.{t}"] = v[p + f"ln_2.{t}"]
            for n, part in zip("qkv", v[p + f"attn.in_proj_{t}"].chunk(3, dim=0)):
                out[q + f"self_attn.{n}_proj.{t}"] = part.clone()
            out[q + f"self_attn.out_proj.{t}"] = v[p + f"attn.out_proj.{t}"]
            out[q + f"mlp.fc1.{t}"] = v[p + f"mlp.c_fc.{t}"]
            out[q + f"mlp.fc2.{t}"] = v[p + f"mlp.c_proj.{t}"]
        i += 1
    return out


@pytest.fixture(scope="module")
def openai_sd():
    return _fp16_exact(random_original_state_dict("clip", "vit-b-32", seed=2))


@pytest.fixture(scope="module")
def images():
    g = np.random.default_rng(0)
    return torch.from_numpy(g.integers(0, 256, size=(3, 3, 40, 29), dtype=np.uint8))


def _features(ext, images):
    net = ext.build("cpu")
    with torch.inference_mode():
        f, logits = ext.split_outputs(net(ext.prepare(images)))
    assert logits is None
    return f


@pytest.fixture(scope="module")
def features(openai_sd, images):
    """Our features of ``images`` under ``openai_sd`` (OpenAI's layout), which the layouts,
    the archive and the reference tower are compared with."""
    return _features(CLIPExtractor("vit-b-32", state_dict=openai_sd), images)


def test_matches_openai_clip_image_tower(openai_sd, images, features):
    ext = CLIPExtractor("vit-b-32", state_dict=openai_sd)
    x = ext.prepare(images)
    ours = features
    with torch.inference_mode():
        ref = _openai_visual(openai_sd)(x).double()
    ref = ref / ref.norm(dim=1, keepdim=True)
    assert ours.shape == (3, 512) and ours.dtype == torch.float64
    assert torch.allclose(ours, ref, atol=2e-5)


def test_features_are_l2_normalised(features):
    f = features
    assert torch.allclose(f.norm(dim=1), torch.ones(3, dtype=torch.float64), atol=1e-12)


@pytest.mark.parametrize(
    "arch, size, dim",
    [("vit-b-32", 224, 512), ("vit-b-16", 224, 512), ("vit-l-14", 224, 768), ("vit-l-14-336", 336, 768)],
)
def test_projection_dimension_of_each_architecture(arch, size, dim):
    net = build_vit("clip", CLIP_ARCHS[arch])  # meta device
    assert net.head.out_features == dim and net.patch_embed.img_size == (size, size)
    assert net.patch_embed.proj.bias is None  # CLIP's patch embedding has no bias


def test_transformers_and_timm_layouts_give_the_same_features(openai_sd, images, features):
    want = features
    hf = _features(CLIPExtractor("vit-b-32", state_dict=_to_transformers_layout(openai_sd)), images)
    timm_layout = convert_clip_state_dict(openai_sd)
    tm = _features(CLIPExtractor("vit-b-32", state_dict=timm_layout), images)
    visual_only = {k[len("visual.") :]: v for k, v in openai_sd.items() if k.startswith("visual.")}
    vo = _features(CLIPExtractor("vit-b-32", state_dict=visual_only), images)
    assert torch.equal(want, hf) and torch.equal(want, tm) and torch.equal(want, vo)


def test_deterministic(openai_sd, images):
    ext = CLIPExtractor("vit-b-32", state_dict=openai_sd)
    assert torch.equal(_features(ext, images), _features(ext, images))


# ------------------------------------------------------------------ preprocessing


def _cmmd_reference(arr: np.ndarray, size: int) -> np.ndarray:
    """CMMD's reader (io_util._center_crop_and_resize, / 255) and CLIP normalisation, in float32."""
    im = Image.fromarray(arr)
    w, h = im.size
    side = min(w, h)
    top, left = (h - side) // 2, (w - side) // 2
    im = im.crop((left, top, left + side, top + side)).resize((size, size), resample=Image.BICUBIC)
    x = np.asarray(im).astype(np.float32) / 255.0
    x = (x - np.asarray(CLIP_MEAN, dtype=np.float32)) / np.asarray(CLIP_STD, dtype=np.float32)
    return x.transpose(2, 0, 1)


@pytest.mark.parametrize("shape", [(17, 17), (40, 29), (29, 40), (513, 400), (336, 336), (11, 300)])
def test_cmmd_preprocessing_equals_cmmd_reader(shape):
    g = np.random.default_rng(shape[1])
    arr = g.integers(0, 256, size=(*shape, 3), dtype=np.uint8)
    ours = preprocess_vit(torch.from_numpy(arr).permute(2, 0, 1)[None], "cmmd", 336, CLIP_MEAN, CLIP_STD)
    ref = _cmmd_reference(arr, 336)
    assert ours.shape == (1, 3, 336, 336)
    assert np.allclose(ours[0].numpy(), ref, atol=1e-6, rtol=0)


def test_cmmd_crop_keeps_the_centre():
    """A non-square image: only the centred square reaches the network."""
    arr = np.zeros((10, 30, 3), dtype=np.uint8)
    arr[:, 10:20] = 255  # the centre 10x10 square is white, the sides black
    ours = preprocess_vit(torch.from_numpy(arr).permute(2, 0, 1)[None], "cmmd", 8, (0, 0, 0), (1, 1, 1))
    assert torch.equal(ours, torch.ones_like(ours))


def test_tf_preprocessing_equals_torch_fidelity():
    tfi = pytest.importorskip("torch_fidelity.interpolate_compat_tensorflow")
    from torchvision.transforms.functional import normalize

    x = torch.from_numpy(np.random.default_rng(3).integers(0, 256, size=(2, 3, 50, 70), dtype=np.uint8))
    ref = tfi.interpolate_bilinear_2d_like_tensorflow1x(x.float(), size=(224, 224), align_corners=False)
    ref = normalize(ref, [255 * m for m in CLIP_MEAN], [255 * s for s in CLIP_STD])
    assert torch.equal(preprocess_vit(x, "tf", 224, CLIP_MEAN, CLIP_STD), ref)


def test_defaults_and_choices():
    ext = get_extractor("clip")
    assert ext.name == "clip:vit-l-14-336" and ext.preprocessing == "cmmd" and ext.spec.img_size == 336
    assert get_extractor("clip:vit-b-32", preprocessing="tf").preprocessing == "tf"
    with pytest.raises(ParameterError, match="preprocessing for extractor 'clip'"):
        get_extractor("clip", preprocessing="dgm-eval")
    with pytest.raises(ParameterError, match="clip:vit-l-14-336, clip:vit-l-14"):
        get_extractor("clip:rn50")


# ------------------------------------------------------------------ weights


def test_absent_weights_list_every_place_looked(tmp_path, monkeypatch):
    monkeypatch.delenv("GANEVAL_CLIP_WEIGHTS", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(WeightsError) as err:
        get_extractor("clip").weights_sha256()
    msg = str(err.value)
    assert "GANEVAL_CLIP_WEIGHTS" in msg and "models--openai--clip-vit-large-patch14-336" in msg
    assert "models--timm--vit_large_patch14_clip_336.openai" in msg and "nothing is downloaded" in msg
    assert "checkpoints/clip-vit-l-14-336px-3035c92b" in msg and ".cache/clip/ViT-L-14-336px.pt" in msg


def test_hf_cache_snapshot_is_found(tmp_path, monkeypatch, openai_sd):
    from safetensors.torch import save_file

    monkeypatch.delenv("GANEVAL_CLIP_WEIGHTS", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    snap = tmp_path / "models--openai--clip-vit-base-patch32" / "snapshots" / "abc"
    snap.mkdir(parents=True)
    save_file({k: v.contiguous() for k, v in _to_transformers_layout(openai_sd).items()}, snap / "model.safetensors")
    ext = get_extractor("clip:vit-b-32")
    assert ext._resolved() == snap / "model.safetensors"
    assert ext.weights_sha256() == file_sha256(snap / "model.safetensors")
    assert ext.network().head.out_features == 512


def test_dinov2_weights_given_to_clip_is_one_clear_error(tmp_path):
    path = tmp_path / "w.pth"
    torch.save(random_original_state_dict("dinov2", "vits14"), path)
    with pytest.raises(WeightsError, match="not CLIP ViT image-tower weights"):
        get_extractor("clip:vit-b-32", weights=path).network()
    torch.save(random_original_state_dict("clip", "vit-b-16"), path)
    with pytest.raises(WeightsError, match="wrong shape"):
        get_extractor("clip:vit-b-32", weights=path).network()


def test_extract_features_from_a_folder(tmp_path, monkeypatch, openai_sd):
    monkeypatch.setenv("GANEVAL_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "imgs"
    folder.mkdir()
    g = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(g.integers(0, 256, size=(30, 20 + 5 * i, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    weights = tmp_path / "clip.pt"
    torch.save(openai_sd, weights)
    out = extract_features(folder, extractor="clip:vit-b-32", weights=weights, num_workers=0)
    assert out.features.shape == (3, 512) and out.logits is None
    assert np.allclose(np.linalg.norm(out.features, axis=1), 1.0, atol=1e-12)
    assert out.info["extractor"] == "clip:vit-b-32" and out.info["preprocessing"] == "cmmd"
    again = extract_features(folder, extractor="clip:vit-b-32", weights=weights, num_workers=0)
    assert again.info["cached"] and np.array_equal(again.features, out.features)


@pytest.mark.slow
def test_vit_l_14_336_matches_openai_clip_image_tower():
    sd = _fp16_exact(random_original_state_dict("clip", "vit-l-14-336", seed=0))
    x = torch.from_numpy(np.random.default_rng(0).integers(0, 256, size=(2, 3, 80, 60), dtype=np.uint8))
    ext = CLIPExtractor(state_dict=sd)
    ours = _features(ext, x)
    with torch.inference_mode():
        ref = _openai_visual(sd)(ext.prepare(x)).double()
    ref = ref / ref.norm(dim=1, keepdim=True)
    assert ours.shape == (2, 768) and torch.allclose(ours, ref, atol=2e-5)


def test_openai_torchscript_archive_is_read_without_running_it(tmp_path, monkeypatch, openai_sd, images, features):
    """OpenAI's CLIP .pt files are TorchScript archives: their tensors are read by a restricted
    unpickler (no code loaded) and give the same features; torch-fidelity's cache name is found."""
    import warnings

    from ganeval.features.weights import read_torchscript_state_dict

    class Wrapper(torch.nn.Module):  # OpenAI's archive: the CLIP module with a `visual` tower
        def __init__(self, visual):
            super().__init__()
            self.visual = visual
            self.logit_scale = torch.nn.Parameter(torch.tensor(4.6))

        def forward(self, x):
            return self.visual(x)

    model = Wrapper(_openai_visual(openai_sd).half())
    spec = CLIP_ARCHS["vit-b-32"]
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.delenv("GANEVAL_CLIP_WEIGHTS", raising=False)
    path = tmp_path / "torch" / "hub" / "checkpoints" / f"clip-vit-b-32-{spec.openai_sha256}.pt"
    path.parent.mkdir(parents=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit is deprecated; OpenAI's files were made with it
        # check_trace=False: torch's own check of its tracer (a second forward pass and a
        # comparison) is most of this test's time and changes nothing in the archive
        traced = torch.jit.trace(model.float(), torch.zeros(1, 3, 224, 224), check_trace=False)
        traced.half().save(str(path))
        ref = torch.jit.load(str(path)).state_dict()
    sd = read_torchscript_state_dict(path)
    assert sorted(sd) == sorted(ref) and all(torch.equal(sd[k], ref[k]) and sd[k].dtype == ref[k].dtype for k in ref)
    ext = get_extractor("clip:vit-b-32")
    assert ext._resolved() == path
    assert torch.equal(_features(ext, images), features)


def test_torchscript_reader_refuses_other_globals(tmp_path):
    import pickle
    import zipfile

    from ganeval.features.weights import read_torchscript_state_dict

    path = tmp_path / "evil.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("m/data.pkl", pickle.dumps(print, protocol=2))  # a global outside the allowed few
        z.writestr("m/code/__torch__.py", "")
    with pytest.raises(WeightsError, match=r"refused global (__builtin__|builtins)\.print"):
        read_torchscript_state_dict(path)
    with pytest.raises(WeightsError, match="refused global"):
        get_extractor("clip:vit-b-32", weights=path).network()
