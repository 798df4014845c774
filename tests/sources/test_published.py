"""Published references (ref:NAME): downloaded once from a local HTTP server on 127.0.0.1 into
$GANEVAL_CACHE_DIR, hash-checked, announced, refusable. CI never reaches the internet."""

from __future__ import annotations

import hashlib
import http.server
import logging
import pickle
import threading
from functools import partial

import numpy as np
import pytest

from ganeval.api import evaluate
from ganeval.errors import InputError, ParameterError
from ganeval.sources import open_source
from ganeval.sources import published as pub
from ganeval.sources.published import PublishedReference, fetch_reference, published_references


class _Handler(http.server.SimpleHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):
        type(self).hits.append(self.path)
        super().do_GET()

    def log_message(self, *args):  # keep the test output quiet
        pass


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    _Handler.hits = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{httpd.server_address[1]}", _Handler.hits
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("GANEVAL_CACHE_DIR", str(d))
    monkeypatch.delenv("GANEVAL_NO_DOWNLOAD", raising=False)
    return d


@pytest.fixture
def registered(monkeypatch):
    """register() entries that vanish after the test."""
    monkeypatch.setattr(pub, "_REGISTRY", dict(pub._REGISTRY))
    return pub.register_published_reference


def _adm_ref(path, rng):
    x, s = rng.normal(size=(30, 4)), rng.normal(size=(30, 3))
    np.savez(
        path,
        arr_0=np.zeros((2, 8, 8, 3), np.uint8),
        mu=x.mean(0),
        sigma=np.cov(x, rowvar=False),
        mu_s=s.mean(0),
        sigma_s=np.cov(s, rowvar=False),
    )
    return x


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_registry_lists_the_field_references():
    refs = published_references()
    assert refs["adm-imagenet256"].url.endswith("/ref_batches/imagenet/256/VIRTUAL_imagenet256_labeled.npz")
    assert refs["edm2-img512"].url == "https://nvlabs-fi-cdn.nvidia.com/edm2/dataset-refs/img512.pkl"
    assert refs["edm-cifar10-32x32"].protocol == "edm"
    assert refs["cleanfid-cifar10-clean-train"].preprocessing == "clean"
    assert all(r.url.startswith("https://") for r in refs.values())


def test_download_once_hash_checked_and_announced(server, cache, registered, caplog):
    root, base, hits = server
    x = _adm_ref(root / "ref.npz", np.random.default_rng(0))
    registered(
        PublishedReference(
            "test-adm", f"{base}/ref.npz", _sha(root / "ref.npz"), "adm", "inception", "tf", "test", "here"
        )
    )
    with caplog.at_level(logging.WARNING, logger="ganeval.sources.published"):
        src = open_source("ref:test-adm")
    assert any("downloading ref:test-adm from http://127.0.0.1" in r.getMessage() for r in caplog.records)
    assert hits == ["/ref.npz"]
    assert (cache / "references" / "test-adm.npz").is_file()
    np.testing.assert_allclose(src.stats.mean, x.mean(0))
    assert src.spatial.dim == 3
    assert src.stats.metadata["reference"] == "ref:test-adm" and src.stats.metadata["protocol"] == "adm"
    # second use: from the cache, no request
    open_source("ref:test-adm")
    assert hits == ["/ref.npz"]
    # usable as REAL
    fake = np.random.default_rng(1).normal(size=(20, 4))
    assert evaluate("ref:test-adm", fake, ["fid"])["fid"].value > 0


def test_wrong_hash_keeps_nothing(server, cache, registered):
    root, base, _ = server
    _adm_ref(root / "ref.npz", np.random.default_rng(0))
    registered(PublishedReference("test-bad", f"{base}/ref.npz", "0" * 64, "adm", "inception", "tf", "t", "h"))
    with pytest.raises(InputError, match=r"ref:test-bad: downloaded \d+ bytes .* expected 0{64}; nothing was kept"):
        fetch_reference("test-bad")
    assert not any((cache / "references").iterdir())


def test_unhashed_reference_needs_the_users_hash(server, cache, registered):
    root, base, hits = server
    rng = np.random.default_rng(2)
    x = rng.normal(size=(30, 4))
    (root / "img.pkl").write_bytes(
        pickle.dumps({"num_images": 30, "fid": {"mu": x.mean(0), "sigma": np.cov(x, rowvar=False)}})
    )
    registered(PublishedReference("test-edm2", f"{base}/img.pkl", None, "edm2", "inception", "tf", "t", "h"))
    with pytest.raises(InputError, match=r"no sha256 is published .*\(ref:test-edm2@SHA256\)"):
        open_source("ref:test-edm2")
    assert hits == []
    sha = _sha(root / "img.pkl")
    src = open_source(f"ref:test-edm2@{sha}")
    assert src.stats.n == 30 and src.stats.metadata["format"] == "edm2-dataset-refs"
    # the cached file was verified against the user's hash; it is used again without one
    assert open_source("ref:test-edm2").stats.n == 30 and hits == ["/img.pkl"]
    # a cached file changed on disk is refused
    path = cache / "references" / "test-edm2.pkl"
    path.write_bytes(path.read_bytes() + b"x")
    with pytest.raises(InputError, match="has sha256 .* expected"):
        open_source("ref:test-edm2")


def test_downloads_can_be_forbidden(server, cache, registered, monkeypatch):
    root, base, hits = server
    _adm_ref(root / "ref.npz", np.random.default_rng(0))
    registered(
        PublishedReference("test-off", f"{base}/ref.npz", _sha(root / "ref.npz"), "adm", "inception", "tf", "t", "h")
    )
    monkeypatch.setenv("GANEVAL_NO_DOWNLOAD", "1")
    with pytest.raises(InputError, match="downloads are off"):
        open_source("ref:test-off")
    with pytest.raises(InputError, match="downloads are off"):
        fetch_reference("test-off", allow_download=False)
    assert hits == []


def test_bad_hashes_names_and_servers(server, cache, registered):
    _, base, _ = server
    with pytest.raises(ParameterError, match="sha256 must be 64 hex digits"):
        fetch_reference("adm-imagenet256", sha256="abc")
    registered(PublishedReference("test-404", f"{base}/missing.npz", "a" * 64, "adm", "inception", "tf", "t", "h"))
    with pytest.raises(InputError, match=r"ref:test-404: download of .* failed"):
        fetch_reference("test-404")
    with pytest.raises(ParameterError, match="must be http"):
        registered(PublishedReference("test-file", "file:///etc/passwd", None, "adm", "inception", "tf", "t", "h"))
    with pytest.raises(InputError, match="unknown reference statistics 'nope'"):
        open_source("ref:nope")


def test_shipped_references_still_work():
    assert open_source("ref:digits-test").stats.dim == 64
