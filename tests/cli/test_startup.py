"""Start-up: a command imports only what it needs (the library's names load lazily, the
command modules load on first use), and the command line computes the library's numbers."""

import importlib
import json
import subprocess
import sys

import numpy as np
import pytest
from ganeval_cli.main import COMMAND_HOME, COMMAND_MODULES, cli, main

import ganeval

HEAVY = ("torch", "sklearn", "matplotlib")

_PROBE = """
import sys
from ganeval_cli.main import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    assert not exc.code, exc.code
print("HEAVY", sorted({m.split(".")[0] for m in sys.modules} & {"torch", "sklearn", "matplotlib"}))
"""


def _heavy_imports(*args: str) -> list[str]:
    """Run ``ganeval ARGS`` in a fresh interpreter; the heavy packages it imported."""
    out = subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    line = [x for x in out.stdout.splitlines() if x.startswith("HEAVY")][-1]
    return eval(line[len("HEAVY") :])  # a printed list of names


@pytest.fixture
def stats_files(tmp_path, rng):
    paths = []
    for i in range(2):
        x = rng.normal(size=(50, 8)) + i
        p = tmp_path / f"s{i}.npz"
        np.savez(p, mu=x.mean(0), sigma=np.cov(x, rowvar=False))
        paths.append(str(p))
    return paths


def test_stats_file_fid_imports_no_torch_sklearn_or_matplotlib(stats_files):
    assert _heavy_imports("fid", *stats_files) == []


def test_feature_kid_imports_no_torch(tmp_path, rng):
    for name in ("a", "b"):
        np.save(tmp_path / f"{name}.npy", rng.normal(size=(40, 5)).astype(np.float32))
    assert (
        _heavy_imports("kid", str(tmp_path / "a.npy"), str(tmp_path / "b.npy"), "--subsets", "3", "--subset-size", "10")
        == []
    )


def test_import_ganeval_is_light_and_every_public_name_resolves():
    code = (
        "import sys, ganeval; heavy = {m.split('.')[0] for m in sys.modules} & {'torch', 'sklearn', "
        "'matplotlib', 'scipy'}; print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
    for name in ganeval.__all__:
        assert getattr(ganeval, name) is not None, name
    assert ganeval.prdc.__module__ == "ganeval.metrics.prdc"  # the function, not the module
    assert ganeval.uncertainty.__name__ == "ganeval.uncertainty"
    importlib.import_module("ganeval.compare")  # a sub-module of the same name must not shadow the function
    assert callable(ganeval.compare)
    assert set(ganeval.__all__) <= set(dir(ganeval))
    assert ganeval.metrics.get_metric("fid").name == "fid"  # sub-packages as attributes, as eager imports gave
    with pytest.raises(AttributeError, match="no_such_name"):
        ganeval.no_such_name


def test_lazy_group_knows_every_command_and_where_it_lives():
    every = {c.name: m for m in COMMAND_MODULES for c in importlib.import_module(m).COMMANDS}
    assert set(cli.commands) == set(every)  # reading .commands loads them all
    for name, module in COMMAND_HOME.items():
        assert every[name] == module, name
    assert cli.get_command(None, "no-such-command") is None


def test_kid_command_gives_the_library_number_on_float32_rows(tmp_path, rng, capsys):
    """float32 .npy rows stay float32 on the command line: the same products, the same number."""
    real = np.abs(rng.normal(size=(300, 16))).astype(np.float32)
    fake = (np.abs(rng.normal(size=(280, 16))) * 1.1).astype(np.float32)
    np.save(tmp_path / "r.npy", real)
    np.save(tmp_path / "f.npy", fake)
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "kid",
                str(tmp_path / "r.npy"),
                str(tmp_path / "f.npy"),
                "--subsets",
                "20",
                "--subset-size",
                "100",
                "--json",
            ]
        )
    assert exc.value.code == 0
    got = json.loads(capsys.readouterr().out)
    want = ganeval.kernel_inception_distance(real, fake, subsets=20, subset_size=100)
    assert (got["value"], got["std"]) == (want.value, want.std)
    as64 = ganeval.kernel_inception_distance(
        real.astype(np.float64), fake.astype(np.float64), subsets=20, subset_size=100
    )
    assert got["value"] == pytest.approx(as64.value, rel=1e-5)  # float32 products: round-off only


def test_fid_of_stats_files_checks_each_file_once_and_keeps_the_number(stats_files, capsys, monkeypatch):
    import ganeval._validation as validation
    import ganeval.metrics.fid as fid_module
    import ganeval.statistics as statistics

    calls = []
    real_check = validation.check_moments

    def counting(mu, sigma, name):
        calls.append(name)
        return real_check(mu, sigma, name)

    monkeypatch.setattr(statistics, "check_moments", counting)
    monkeypatch.setattr(fid_module, "check_moments", counting)
    with pytest.raises(SystemExit):
        main(["fid", *stats_files, "--json"])
    got = json.loads(capsys.readouterr().out)["value"]
    assert len(calls) == 2
    f = [np.load(p) for p in stats_files]
    assert got == ganeval.frechet_distance(f[0]["mu"], f[0]["sigma"], f[1]["mu"], f[1]["sigma"])
