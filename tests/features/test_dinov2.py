"""The DINOv2 extractor: architecture, checkpoint layouts, preprocessing, weights, pipeline.

The reference network is DINOv2's own forward pass (facebookresearch/dinov2, which dgm-eval
loads through torch.hub and which cannot be installed here), written out below in float64
from the checkpoint's tensors, including the position-embedding interpolation with the
0.1 offset. Random weights in Meta's checkpoint layout stand in for the real ones.
"""

from __future__ import annotations

import json
import math
import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from ganeval.errors import ParameterError, WeightsError
from ganeval.features import extract_features, get_extractor
from ganeval.features.preprocessing import IMAGENET_MEAN, IMAGENET_STD, preprocess_vit, resize_bilinear_tf1
from ganeval.features.vit import (
    DINOV2_ARCHS,
    DINOv2Extractor,
    ViTSpec,
    build_vit,
    convert_dinov2_state_dict,
    random_original_state_dict,
)
from ganeval.features.weights import file_sha256

pytest.importorskip("timm")


# ------------------------------------------------------------------ the reference forward pass


def _ref_pos_embed(pos: torch.Tensor, w0: int) -> torch.Tensor:
    n = pos.shape[1] - 1
    m = int(math.sqrt(n))
    dim = pos.shape[2]
    s = float(w0 + 0.1) / m  # DINOv2's interpolate_offset
    p = F.interpolate(
        pos[:, 1:].float().reshape(1, m, m, dim).permute(0, 3, 1, 2),
        scale_factor=(s, s),
        mode="bicubic",
        antialias=False,
    )
    assert p.shape[-2:] == (w0, w0)
    return torch.cat([pos[:, :1].float(), p.permute(0, 2, 3, 1).reshape(1, -1, dim)], dim=1)


def reference_dinov2(sd: dict, x: torch.Tensor, *, patch: int = 14, heads: int) -> torch.Tensor:
    """DINOv2 ``model(x)``: CLS token after the final norm, computed step by step in float64."""
    sd = {k: v.double() for k, v in sd.items()}
    x = x.double()
    b, _, h, w = x.shape
    t = F.conv2d(x, sd["patch_embed.proj.weight"], sd["patch_embed.proj.bias"], stride=patch)
    t = t.flatten(2).transpose(1, 2)
    t = torch.cat([sd["cls_token"].expand(b, -1, -1), t], dim=1)
    t = t + _ref_pos_embed(sd["pos_embed"], w // patch).double()
    d = t.shape[2]
    hd = d // heads
    i = 0
    while f"blocks.{i}.norm1.weight" in sd:
        p = f"blocks.{i}."
        y = F.layer_norm(t, (d,), sd[p + "norm1.weight"], sd[p + "norm1.bias"], eps=1e-6)
        qkv = F.linear(y, sd[p + "attn.qkv.weight"], sd[p + "attn.qkv.bias"]).reshape(b, -1, 3, heads, hd)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        attn = ((q * hd**-0.5) @ k.transpose(-2, -1)).softmax(dim=-1)
        y = (attn @ v).transpose(1, 2).reshape(b, -1, d)
        y = F.linear(y, sd[p + "attn.proj.weight"], sd[p + "attn.proj.bias"])
        t = t + sd[p + "ls1.gamma"] * y
        y = F.layer_norm(t, (d,), sd[p + "norm2.weight"], sd[p + "norm2.bias"], eps=1e-6)
        if p + "mlp.w12.weight" in sd:  # SwiGLU (ViT-g)
            x1, x2 = F.linear(y, sd[p + "mlp.w12.weight"], sd[p + "mlp.w12.bias"]).chunk(2, dim=-1)
            y = F.linear(F.silu(x1) * x2, sd[p + "mlp.w3.weight"], sd[p + "mlp.w3.bias"])
        else:
            y = F.linear(
                F.gelu(F.linear(y, sd[p + "mlp.fc1.weight"], sd[p + "mlp.fc1.bias"])),
                sd[p + "mlp.fc2.weight"],
                sd[p + "mlp.fc2.bias"],
            )
        t = t + sd[p + "ls2.gamma"] * y
        i += 1
    t = F.layer_norm(t, (d,), sd["norm.weight"], sd["norm.bias"], eps=1e-6)
    return t[:, 0]


def _to_transformers_layout(sd: dict) -> dict:
    """Meta's layout -> Hugging Face transformers' Dinov2Model layout (as facebook/dinov2-* hold)."""
    out = {
        "embeddings.cls_token": sd["cls_token"],
        "embeddings.mask_token": sd["mask_token"],
        "embeddings.position_embeddings": sd["pos_embed"],
        "embeddings.patch_embeddings.projection.weight": sd["patch_embed.proj.weight"],
        "embeddings.patch_embeddings.projection.bias": sd["patch_embed.proj.bias"],
        "layernorm.weight": sd["norm.weight"],
        "layernorm.bias": sd["norm.bias"],
    }
    i = 0
    while f"blocks.{i}.norm1.weight" in sd:
        p, q = f"blocks.{i}.", f"encoder.layer.{i}."
        for t in ("weight", "bias"):
            out[q + f"norm1.{t}"] = sd[p + f"norm1.{t}"]
            out[q + f"norm2.{t}"] = sd[p + f"norm2.{t}"]
            for name, part in zip(("query", "key", "value"), sd[p + f"attn.qkv.{t}"].chunk(3, dim=0)):
                out[q + f"attention.attention.{name}.{t}"] = part.clone()
            out[q + f"attention.output.dense.{t}"] = sd[p + f"attn.proj.{t}"]
            out[q + f"mlp.fc1.{t}"] = sd[p + f"mlp.fc1.{t}"]
            out[q + f"mlp.fc2.{t}"] = sd[p + f"mlp.fc2.{t}"]
        out[q + "layer_scale1.lambda1"] = sd[p + "ls1.gamma"]
        out[q + "layer_scale2.lambda1"] = sd[p + "ls2.gamma"]
        i += 1
    return out


@pytest.fixture(scope="module")
def meta_sd():
    return random_original_state_dict("dinov2", "vits14", seed=3)


@pytest.fixture(scope="module")
def images():
    g = np.random.default_rng(0)
    return torch.from_numpy(g.integers(0, 256, size=(3, 3, 30, 41), dtype=np.uint8))


def _features(ext, images):
    net = ext.build("cpu")
    with torch.inference_mode():
        f, logits = ext.split_outputs(net(ext.prepare(images)))
    assert logits is None
    return f


# ------------------------------------------------------------------ architecture


def test_matches_the_reference_forward_pass(meta_sd, images):
    ext = DINOv2Extractor("vits14", state_dict=meta_sd)
    ours = _features(ext, images)
    ref = reference_dinov2(meta_sd, ext.prepare(images), heads=6)
    assert ours.shape == (3, 384) and ours.dtype == torch.float32
    assert torch.allclose(ours.double(), ref, rtol=1e-4, atol=1e-4 * float(ref.abs().max()))


def test_swiglu_block_matches_the_reference(monkeypatch, images):
    """ViT-g's SwiGLU MLP (w12/w3 in Meta's layout), on a tiny 2-block model of the same design."""
    spec = ViTSpec("tiny-swiglu", 224, 14, 48, 2, 3, swiglu=True)
    monkeypatch.setitem(DINOV2_ARCHS, "tiny-swiglu", spec)
    sd = random_original_state_dict("dinov2", "tiny-swiglu", seed=1)
    assert sd["blocks.0.mlp.w12.weight"].shape == (2 * 128, 48)  # (int(4 * 48 * 2/3) + 7) // 8 * 8 = 128
    ext = DINOv2Extractor("tiny-swiglu", state_dict=sd)
    ours = _features(ext, images[:2])
    ref = reference_dinov2(sd, ext.prepare(images[:2]), heads=3)
    assert torch.allclose(ours.double(), ref, rtol=1e-4, atol=1e-4 * float(ref.abs().max()))


@pytest.mark.parametrize("arch, dim", [("vits14", 384), ("vitb14", 768), ("vitl14", 1024), ("vitg14", 1536)])
def test_feature_dimension_of_each_architecture(arch, dim):
    net = build_vit("dinov2", DINOV2_ARCHS[arch])  # on the meta device: no memory, no init
    assert net.num_features == dim and isinstance(net.head, torch.nn.Identity)
    assert net.pos_embed.shape == (1, 1 + 16 * 16, dim)


def test_transformers_and_timm_layouts_give_the_same_features(meta_sd, images):
    want = _features(DINOv2Extractor("vits14", state_dict=meta_sd), images)
    hf = _features(DINOv2Extractor("vits14", state_dict=_to_transformers_layout(meta_sd)), images)
    timm_layout = {k: v for k, v in meta_sd.items() if k != "mask_token"}
    tm = _features(DINOv2Extractor("vits14", state_dict=timm_layout), images)
    assert torch.equal(want, hf) and torch.equal(want, tm)


def test_position_embeddings_are_resampled_only_once(meta_sd):
    out = convert_dinov2_state_dict(meta_sd)
    assert out["pos_embed"].shape == (1, 257, 384) and "mask_token" not in out
    again = convert_dinov2_state_dict(out)  # already 16x16: unchanged
    assert torch.equal(again["pos_embed"], out["pos_embed"])


def test_deterministic_and_batch_independent(meta_sd, images):
    ext = DINOv2Extractor("vits14", state_dict=meta_sd)
    a = _features(ext, images)
    b = _features(ext, images)
    one = torch.cat([_features(ext, images[i : i + 1]) for i in range(3)])
    assert torch.equal(a, b)
    assert torch.allclose(a, one, atol=1e-5 * float(a.abs().max()))


# ------------------------------------------------------------------ preprocessing


@pytest.mark.parametrize("shape", [(17, 17), (30, 41), (256, 200), (224, 224)])
def test_dgm_eval_preprocessing_equals_torchvision_pipeline(shape):
    """dgm-eval: Resize((224, 224), BICUBIC) on the PIL image, ToTensor, Normalize(ImageNet)."""
    tvt = pytest.importorskip("torchvision.transforms")
    g = np.random.default_rng(shape[0])
    arr = g.integers(0, 256, size=(*shape, 3), dtype=np.uint8)
    pipeline = tvt.Compose(
        [
            tvt.Resize((224, 224), tvt.InterpolationMode.BICUBIC),
            tvt.ToTensor(),
            tvt.Normalize(np.array(IMAGENET_MEAN), np.array(IMAGENET_STD)),
        ]
    )
    ref = pipeline(Image.fromarray(arr))
    ours = preprocess_vit(torch.from_numpy(arr).permute(2, 0, 1)[None], "dgm-eval", 224, IMAGENET_MEAN, IMAGENET_STD)
    assert ours.shape == (1, 3, 224, 224) and ours.dtype == torch.float32
    assert torch.equal(ours[0], ref)


@pytest.mark.parametrize("shape", [(17, 23), (300, 260)])
def test_clean_preprocessing_equals_dgm_eval_clean_resize(shape):
    """dgm-eval --clean_resize: PIL bicubic per float32 channel, clip to [0, 255], / 255."""
    g = np.random.default_rng(1)
    arr = g.integers(0, 256, size=(*shape, 3), dtype=np.uint8)
    chans = []
    for c in range(3):
        img = Image.fromarray(arr[:, :, c].astype(np.float32), mode="F").resize((224, 224), resample=Image.BICUBIC)
        chans.append(np.asarray(img).clip(0, 255))
    ref = torch.from_numpy(np.stack(chans).astype(np.float32)) / 255
    ref = (ref - torch.tensor(IMAGENET_MEAN).view(3, 1, 1)) / torch.tensor(IMAGENET_STD).view(3, 1, 1)
    ours = preprocess_vit(torch.from_numpy(arr).permute(2, 0, 1)[None], "clean", 224, IMAGENET_MEAN, IMAGENET_STD)
    assert torch.allclose(ours[0], ref, atol=1e-6)


@pytest.mark.parametrize("shape", [(17, 23), (64, 64), (300, 260)])
def test_tf_preprocessing_equals_torch_fidelity(shape):
    """torch-fidelity's DINOv2 input: TF1 bilinear to 224 on 0..255, Normalize(255 mean, 255 std)."""
    tfi = pytest.importorskip("torch_fidelity.interpolate_compat_tensorflow")
    from torchvision.transforms.functional import normalize

    g = np.random.default_rng(2)
    x = torch.from_numpy(g.integers(0, 256, size=(2, 3, *shape), dtype=np.uint8))
    ref = tfi.interpolate_bilinear_2d_like_tensorflow1x(x.float(), size=(224, 224), align_corners=False)
    ref = normalize(ref, [255 * m for m in IMAGENET_MEAN], [255 * s for s in IMAGENET_STD])
    ours = preprocess_vit(x, "tf", 224, IMAGENET_MEAN, IMAGENET_STD)
    assert torch.equal(ours, ref)
    assert torch.equal(
        resize_bilinear_tf1(x.float(), 224),
        tfi.interpolate_bilinear_2d_like_tensorflow1x(x.float(), size=(224, 224), align_corners=False),
    )


def test_preprocessing_choice_is_validated_and_recorded():
    assert get_extractor("dinov2").preprocessing == "dgm-eval"
    assert get_extractor("dinov2:vitb14", preprocessing="tf").preprocessing == "tf"
    with pytest.raises(ParameterError, match="preprocessing for extractor 'dinov2'"):
        get_extractor("dinov2", preprocessing="pytorch-fid")
    with pytest.raises(ParameterError, match="dinov2:vits14, dinov2:vitb14"):
        get_extractor("dinov2:vitx14")


# ------------------------------------------------------------------ names, weights, optional extra


def test_names_carry_the_architecture():
    assert get_extractor("dinov2").name == "dinov2:vitl14"
    assert get_extractor("dinov2:VITS14").name == "dinov2:vits14"
    with pytest.raises(ParameterError, match="inception:vits14"):
        get_extractor("inception:vits14")


def test_absent_weights_list_every_place_looked(tmp_path, monkeypatch):
    monkeypatch.delenv("GANEVAL_DINOV2_WEIGHTS", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    with pytest.raises(WeightsError) as err:
        get_extractor("dinov2:vits14").weights_sha256()
    msg = str(err.value)
    assert "nothing is downloaded" in msg and "GANEVAL_DINOV2_WEIGHTS" in msg
    assert "models--timm--vit_small_patch14_dinov2.lvd142m" in msg and "models--facebook--dinov2-small" in msg
    assert str(tmp_path / "torch" / "hub" / "checkpoints" / "dinov2_vits14_pretrain.pth") in msg
    monkeypatch.setenv("GANEVAL_DINOV2_WEIGHTS", str(tmp_path / "missing.pth"))
    with pytest.raises(WeightsError, match="missing.pth: DINOv2 .* given by GANEVAL_DINOV2_WEIGHTS does not exist"):
        get_extractor("dinov2:vits14").weights_sha256()


def test_weights_found_in_the_torch_hub_and_hf_caches(tmp_path, monkeypatch, meta_sd):
    monkeypatch.delenv("GANEVAL_DINOV2_WEIGHTS", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    hub = tmp_path / "torch" / "hub" / "checkpoints" / "dinov2_vits14_pretrain.pth"
    hub.parent.mkdir(parents=True)
    torch.save(meta_sd, hub)
    ext = get_extractor("dinov2:vits14")
    assert ext._resolved() == hub and ext.weights_sha256() == file_sha256(hub)
    # the Hugging Face cache comes first (refs/main names the snapshot)
    from safetensors.torch import save_file

    repo = tmp_path / "hf" / "models--facebook--dinov2-small"
    snap = repo / "snapshots" / "c0ffee"
    snap.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("c0ffee")
    save_file({k: v.contiguous() for k, v in _to_transformers_layout(meta_sd).items()}, snap / "model.safetensors")
    ext = get_extractor("dinov2:vits14")
    assert ext._resolved() == snap / "model.safetensors"
    assert ext.network().num_features == 384


def test_wrong_architecture_weights_are_one_clear_error(tmp_path, meta_sd):
    path = tmp_path / "w.pth"
    torch.save(meta_sd, path)
    with pytest.raises(WeightsError, match="wrong shape .* for DINOv2 vitb14"):
        get_extractor("dinov2:vitb14", weights=path).network()
    torch.save({"a": torch.ones(2)}, path)
    with pytest.raises(WeightsError, match="not DINOv2 weights"):
        get_extractor("dinov2:vits14", weights=path).network()
    reg = dict(meta_sd, register_tokens=torch.zeros(1, 4, 384))
    with pytest.raises(WeightsError, match="registers"):
        DINOv2Extractor("vits14", state_dict=reg).network()


def test_pickles_without_the_weights(meta_sd):
    ext = DINOv2Extractor("vits14", state_dict=meta_sd)
    clone = pickle.loads(pickle.dumps(ext))
    assert clone.name == ext.name and clone._state_dict == "<in memory>"


# ------------------------------------------------------------------ end to end


def _write_folder(folder, seed, n=4):
    folder.mkdir()
    g = np.random.default_rng(seed)
    for i in range(n):
        Image.fromarray(g.integers(0, 256, size=(20 + i, 24, 3), dtype=np.uint8)).save(folder / f"{i}.png")


def test_fid_dinov2_end_to_end_with_a_weights_file(tmp_path, monkeypatch, meta_sd):
    from ganeval_cli.main import main

    monkeypatch.setenv("GANEVAL_CACHE_DIR", str(tmp_path / "cache"))
    weights = tmp_path / "dinov2_vits14_pretrain.pth"
    torch.save(meta_sd, weights)
    _write_folder(tmp_path / "real", 0)
    _write_folder(tmp_path / "fake", 1)
    args = [
        "fid",
        str(tmp_path / "real"),
        str(tmp_path / "fake"),
        "--extractor",
        "dinov2:vits14",
        "--weights",
        str(weights),
        "--num-workers",
        "0",
        "--json",
    ]
    with pytest.raises(SystemExit) as ex:
        main(args)
    assert ex.value.code == 0
    cached = list((tmp_path / "cache").glob("features-*.npz"))
    assert len(cached) == 2
    # the features the pipeline cached are the reference network's
    ext = DINOv2Extractor("vits14", weights=weights)
    f = extract_features(tmp_path / "real", extractor="dinov2:vits14", weights=weights, num_workers=0)
    assert f.info["cached"] and f.info["extractor"] == "dinov2:vits14" and f.info["preprocessing"] == "dgm-eval"
    assert f.info["weights_sha256"] == file_sha256(weights)
    imgs = [
        torch.from_numpy(np.array(Image.open(tmp_path / "real" / f"{i}.png"))).permute(2, 0, 1)[None] for i in range(4)
    ]
    ref = torch.cat([reference_dinov2(meta_sd, ext.prepare(x), heads=6) for x in imgs])
    assert np.allclose(f.features, ref.numpy(), rtol=1e-4, atol=1e-4 * float(ref.abs().max()))
    # another preprocessing is another cache entry
    g = extract_features(
        tmp_path / "real", extractor="dinov2:vits14", weights=weights, preprocessing="tf", num_workers=0
    )
    assert not g.info["cached"] and g.info["preprocessing"] == "tf"


def test_fid_dinov2_json_records_extractor_and_hash(tmp_path, monkeypatch, meta_sd, capsys):
    from ganeval_cli.main import main

    monkeypatch.setenv("GANEVAL_CACHE_DIR", str(tmp_path / "cache"))
    weights = tmp_path / "w.pth"
    torch.save(meta_sd, weights)
    _write_folder(tmp_path / "real", 0)
    _write_folder(tmp_path / "fake", 1)
    with pytest.raises(SystemExit):
        main(
            [
                "fid",
                str(tmp_path / "real"),
                str(tmp_path / "fake"),
                "--extractor",
                "dinov2:vits14",
                "--weights",
                str(weights),
                "--num-workers",
                "0",
                "--json",
            ]
        )
    out = json.loads(capsys.readouterr().out)
    assert out["metric"] == "fid" and out["value"] > 0
    s = out["settings"]
    assert s["extractor"] == "dinov2:vits14" and s["preprocessing"] == "dgm-eval"
    assert s["weights_sha256"] == file_sha256(weights)
    with pytest.raises(SystemExit):
        main(
            [
                "stats",
                str(tmp_path / "real"),
                "-o",
                str(tmp_path / "s.npz"),
                "--extractor",
                "dinov2:vits14",
                "--weights",
                str(weights),
                "--num-workers",
                "0",
                "-q",
            ]
        )
    with np.load(tmp_path / "s.npz") as st:
        assert st["mu"].shape == (384,) and st["sigma"].shape == (384, 384)
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(
            [
                "eval",
                str(tmp_path / "real"),
                str(tmp_path / "fake"),
                "--extractor",
                "dinov2:vits14",
                "--weights",
                str(weights),
                "--metrics",
                "fid,kid,prdc,cmmd",
                "--kid-subset-size",
                "3",
                "--k",
                "2",
                "--num-workers",
                "0",
                "--json",
            ]
        )
    ev = json.loads(capsys.readouterr().out)["results"]
    assert sorted(ev) == ["cmmd", "fid", "kid", "prdc"]
    assert ev["fid"]["value"] == pytest.approx(out["value"], rel=1e-12)  # the cached features, same FID
    assert all(r["settings"]["extractor"] == "dinov2:vits14" for r in ev.values())


@pytest.mark.slow
def test_vitl14_matches_the_reference():
    sd = random_original_state_dict("dinov2", "vitl14", seed=0)
    x = torch.from_numpy(np.random.default_rng(0).integers(0, 256, size=(2, 3, 50, 60), dtype=np.uint8))
    ext = DINOv2Extractor("vitl14", state_dict=sd)
    ours = _features(ext, x)
    ref = reference_dinov2(sd, ext.prepare(x), heads=16)
    assert ours.shape == (2, 1024)
    assert torch.allclose(ours.double(), ref, rtol=1e-4, atol=1e-4 * float(ref.abs().max()))


@pytest.mark.gpu
def test_cuda_features_match_cpu(meta_sd, images):
    ext = DINOv2Extractor("vits14", state_dict=meta_sd)
    cpu = _features(ext, images)
    net = ext.build("cuda")
    with torch.inference_mode():
        gpu = net(ext.prepare(images).cuda()).cpu()
    assert torch.allclose(gpu, cpu, rtol=1e-3, atol=1e-3 * float(cpu.abs().max()))  # TF32 matmuls allowed
