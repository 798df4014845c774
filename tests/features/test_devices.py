"""Device names everywhere a device is taken: auto, cpu, cuda, cuda:N, mps; Python wording in
the library (device=...), CLI wording (--device ...) in the command line."""

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from ganeval_cli.main import cli

import ganeval
import ganeval.features
from ganeval.errors import DeviceError, ParameterError
from ganeval.features.engine import is_device_name, resolve_device
from ganeval.report.spec import parse_spec


@pytest.fixture
def two_gpus(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)


def test_names(two_gpus):
    assert resolve_device("cuda:1") == torch.device("cuda", 1)
    assert resolve_device(" CUDA:0 ") == torch.device("cuda", 0)
    assert resolve_device(torch.device("cuda", 1)) == torch.device("cuda", 1)
    assert resolve_device("cuda") == torch.device("cuda")
    assert resolve_device("auto").type == "cuda"
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(
        DeviceError, match=r"device='cuda:2': no such CUDA device; this machine has 2 \(cuda:0 to cuda:1\)"
    ):
        resolve_device("cuda:2")
    for bad in ("gpu", "cuda:", "cuda:-1", "cuda:x", "cuda1", ""):
        assert not is_device_name(bad)
        with pytest.raises(ParameterError, match="device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'; got"):
            resolve_device(bad)
    with pytest.raises(ParameterError, match="device must be .* or a torch.device; got 1"):
        resolve_device(1)


def test_no_gpu_messages_speak_python(no_gpu):
    assert resolve_device("auto") == torch.device("cpu")
    with pytest.raises(
        DeviceError,
        match="device='cuda:1': CUDA is not available on this machine .*; use device='cpu' or device='auto'$",
    ) as err:
        resolve_device("cuda:1")
    assert "--" not in str(err.value)
    with pytest.raises(DeviceError, match="device='cuda:0'"):
        ganeval.Evaluator("fid", extractor=None, device="cuda:0")
    with pytest.raises(DeviceError, match="device='cuda:1'"):
        ganeval.features.extract_features(
            np.zeros((2, 8, 8, 3), np.uint8), extractor="digits", device="cuda:1", cache=False
        )
    if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        with pytest.raises(DeviceError, match="device='mps': MPS"):
            resolve_device("mps")


def test_cli_device(no_gpu):
    r = CliRunner().invoke(cli, ["fid", "builtin:digits/train", "builtin:digits/test", "--device", "cuda:1"])
    assert r.exit_code == 2
    assert r.stderr.strip() == (
        f"error: --device cuda:1: CUDA is not available on this machine (torch {torch.__version__}); "
        "use --device cpu or --device auto"
    )
    r = CliRunner().invoke(cli, ["fid", "builtin:digits/train", "builtin:digits/test", "--device", "tpu"])
    assert r.exit_code == 2 and "must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'; got 'tpu'" in r.output
    r = CliRunner().invoke(cli, ["fid", "builtin:digits/train", "builtin:digits/test", "--device", "CPU", "--json"])
    assert r.exit_code == 0, r.output


def test_cli_device_index_past_the_last_gpu(two_gpus):
    r = CliRunner().invoke(cli, ["kid", "builtin:digits/train", "builtin:digits/test", "--device", "cuda:7"])
    assert r.exit_code == 2
    assert r.stderr.strip() == "error: --device cuda:7: no such CUDA device; this machine has 2 (cuda:0 to cuda:1)"


def test_report_spec_takes_device_names():
    text = (
        '[real]\ninput = "builtin:digits/test"\n[metrics]\nfid = {}\n[[candidates]]\nname = "a"\n'
        'input = "builtin:digits/train"\n'
    )
    assert parse_spec(f'device = "cuda:1"\n{text}').device == "cuda:1"
    with pytest.raises(ganeval.InputError, match="device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got 'gpu'"):
        parse_spec(f'device = "gpu"\n{text}')


def test_torch_names_of_the_cpu_are_taken():
    """``torch.device("cpu", 0)`` prints as ``cpu:0``: Hugging Face Accelerate's
    ``accelerator.device`` on the CPU, handed to ganeval as it is."""
    for name in ("cpu:0", "cpu:1", torch.device("cpu", 0), " CPU:0 "):
        assert resolve_device(name) == torch.device("cpu")
    assert is_device_name("cpu:0") and not is_device_name("cpu:") and not is_device_name("mps:1")
    ev = ganeval.Evaluator("fid", extractor=None, device=torch.device("cpu", 0))
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(30, 3)), rng.normal(size=(30, 3)) + 1
    ev.update(y)
    ev.update(x, real=True)
    assert ev.compute()["fid"].value == pytest.approx(ganeval.fid_from_features(x, y).value, rel=1e-10)
