"""Weights resolution, hash-checked atomic download, hashing cache and loading.

No test touches the network: the default downloader is replaced by one that fails the test,
and every download test passes its own fake ``fetch``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
import torch

from ganeval.errors import WeightsError
from ganeval.features import weights as W

PAYLOAD = b"fake FID inception weights"
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()
REAL_SHA256 = W.FID_WEIGHTS_SHA256  # read before the autouse fixture replaces it


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """No network, no env override, and a private torch hub dir with a known expected hash."""

    def no_network(url, dest):  # pragma: no cover - reaching it is the failure
        raise AssertionError(f"a test tried to download {url}")

    monkeypatch.setattr(W, "_urllib_fetch", no_network)
    monkeypatch.delenv(W.WEIGHTS_ENV_VAR, raising=False)
    hub = tmp_path / "hub"
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(hub))
    monkeypatch.setattr(W, "FID_WEIGHTS_SHA256", PAYLOAD_SHA)
    return hub


def fake_fetch(data: bytes, calls: list | None = None):
    def fetch(url, dest):
        if calls is not None:
            calls.append((url, Path(dest)))
        Path(dest).write_bytes(data)

    return fetch


def test_constants_match_the_published_file():
    # the file name's hash part is the first 8 hex digits of the sha256 (torch.hub's check_hash)
    assert W.FID_WEIGHTS_URL.endswith("/" + W.FID_WEIGHTS_FILENAME)
    assert W.FID_WEIGHTS_URL.startswith("https://github.com/mseitzer/pytorch-fid/releases/")
    assert len(REAL_SHA256) == 64 and int(REAL_SHA256, 16) >= 0
    assert W.FID_WEIGHTS_FILENAME.split("-")[-1].split(".")[0] == REAL_SHA256[:8]
    pfi = pytest.importorskip("pytorch_fid.inception")
    assert W.FID_WEIGHTS_URL == pfi.FID_WEIGHTS_URL


def test_hub_cache_path(offline):
    assert W.hub_cache_path() == offline / "checkpoints" / "pt_inception-2015-12-05-6726825d.pth"


def test_explicit_path_wins_over_env_and_cache(offline, tmp_path, monkeypatch):
    explicit, env = tmp_path / "mine.pth", tmp_path / "env.pth"
    explicit.write_bytes(b"x")
    env.write_bytes(b"y")
    W.hub_cache_path().parent.mkdir(parents=True)
    W.hub_cache_path().write_bytes(PAYLOAD)
    monkeypatch.setenv(W.WEIGHTS_ENV_VAR, str(env))
    assert W.resolve_weights(explicit) == explicit
    assert W.resolve_weights() == env
    monkeypatch.delenv(W.WEIGHTS_ENV_VAR)
    assert W.resolve_weights() == W.hub_cache_path()


def test_explicit_missing_file_is_an_error_naming_it(tmp_path, monkeypatch):
    with pytest.raises(WeightsError, match=r"nope\.pth: weights file given by --weights does not exist"):
        W.resolve_weights(tmp_path / "nope.pth")
    monkeypatch.setenv(W.WEIGHTS_ENV_VAR, str(tmp_path))
    with pytest.raises(WeightsError, match=rf"given by {W.WEIGHTS_ENV_VAR} is not a file"):
        W.resolve_weights()


def test_cached_file_with_wrong_hash_is_an_error(offline):
    cache = W.hub_cache_path()
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"tampered")
    with pytest.raises(
        WeightsError,
        match=rf"{cache.name}: sha256 is {hashlib.sha256(b'tampered').hexdigest()}, expected {PAYLOAD_SHA}",
    ):
        W.resolve_weights(fetch=fake_fetch(PAYLOAD))


def test_download_lands_atomically_in_the_hub_cache(offline):
    calls = []
    seen_during_fetch = []

    def fetch(url, dest):
        fake_fetch(PAYLOAD, calls)(url, dest)
        seen_during_fetch.append(W.hub_cache_path().exists())

    path = W.resolve_weights(fetch=fetch)
    assert path == W.hub_cache_path() and path.read_bytes() == PAYLOAD
    ((url, tmp),) = calls
    assert url == W.FID_WEIGHTS_URL
    assert tmp.parent == path.parent and tmp != path  # written beside it, then renamed
    assert seen_during_fetch == [False]  # the final name appears only after the hash check
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_download_with_wrong_hash_saves_nothing(offline):
    with pytest.raises(WeightsError) as info:
        W.resolve_weights(fetch=fake_fetch(b"corrupted in transit"))
    msg = str(info.value)
    assert "\n" not in msg
    assert f"has sha256 {hashlib.sha256(b'corrupted in transit').hexdigest()}, expected {PAYLOAD_SHA}" in msg
    assert str(W.hub_cache_path()) in msg and "--extractor digits" in msg
    assert list(W.hub_cache_path().parent.iterdir()) == []


def test_failed_download_gives_one_clear_error(offline):
    def fetch(url, dest):
        Path(dest).write_bytes(b"partial")
        raise OSError("Network is unreachable")

    with pytest.raises(WeightsError) as info:
        W.resolve_weights(fetch=fetch)
    msg = str(info.value)
    for part in (
        "Network is unreachable",
        "--weights PATH",
        W.WEIGHTS_ENV_VAR,
        str(W.hub_cache_path()),
        W.FID_WEIGHTS_URL,
        "--extractor digits",
        "offline",
    ):
        assert part in msg, part
    assert list(W.hub_cache_path().parent.iterdir()) == []


def test_failed_rename_leaves_no_temp_file(offline, monkeypatch):
    def bad_replace(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(W.os, "replace", bad_replace)
    with pytest.raises(WeightsError, match="cannot move the downloaded weights into place"):
        W.download_weights(W.hub_cache_path(), fetch=fake_fetch(PAYLOAD))
    assert list(W.hub_cache_path().parent.iterdir()) == []


def test_download_disabled(offline):
    with pytest.raises(WeightsError, match=r"not found \(downloads disabled\).*--extractor digits"):
        W.resolve_weights(download=False, fetch=fake_fetch(PAYLOAD))
    assert not W.hub_cache_path().exists()


def test_default_fetch_is_not_used_when_one_is_given(offline):
    # the autouse fixture would fail the test if the urllib fetch ran
    assert W.download_weights(fetch=fake_fetch(PAYLOAD)) == W.hub_cache_path()


def test_file_sha256_is_cached_per_path_mtime_and_size(tmp_path):
    p = tmp_path / "w.pth"
    p.write_bytes(b"aaaa")
    first = W.file_sha256(p)
    assert first == hashlib.sha256(b"aaaa").hexdigest()
    st = p.stat()
    p.write_bytes(b"bbbb")  # same size; put the old mtime back: the cache answers
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert W.file_sha256(p) == first
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # new mtime: hashed again
    assert W.file_sha256(p) == hashlib.sha256(b"bbbb").hexdigest()
    p.write_bytes(b"ccccc")
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # same mtime, new size
    assert W.file_sha256(p) == hashlib.sha256(b"ccccc").hexdigest()
    with pytest.raises(WeightsError, match=r"gone\.pth: cannot read"):
        W.file_sha256(tmp_path / "gone.pth")


def test_load_weights_file(tmp_path):
    p = tmp_path / "w.pth"
    torch.save({"a": torch.arange(3.0)}, p)
    assert torch.equal(W.load_weights_file(p)["a"], torch.arange(3.0))
    with pytest.raises(WeightsError, match="is a directory"):
        W.load_weights_file(tmp_path)
    with pytest.raises(WeightsError, match=r"missing\.pth: weights file does not exist"):
        W.load_weights_file(tmp_path / "missing.pth")
    torch.save(torch.zeros(2), p)
    with pytest.raises(WeightsError, match=r"w\.pth: expected a state dict.*Tensor"):
        W.load_weights_file(p)
