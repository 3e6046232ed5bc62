"""The system CA store: read lazily from the hashed directory only when that holds the same
certificates as the default CA file; any other CA file is loaded the usual way."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tmail.config.model import ServerSettings
from tmail.protocols.tls import _system_capath, tls_context

SYSTEM_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


@pytest.fixture
def hashed_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    if not SYSTEM_BUNDLE.is_file():
        pytest.skip("needs the Debian CA bundle")
    d = tmp_path / "certs"
    d.mkdir()
    shutil.copy(SYSTEM_BUNDLE, d / "ca-certificates.crt")
    (d / "0123abcd.0").write_bytes(b"")  # a hash link (its content is not read here)
    monkeypatch.setenv("SSL_CERT_DIR", str(d))
    return d


def test_bundle_inside_the_hashed_directory_uses_the_directory(
    hashed_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(hashed_dir / "ca-certificates.crt"))
    assert _system_capath() == str(hashed_dir)
    ctx = tls_context(ServerSettings("imap", "example.test", 993))
    assert ctx.cert_store_stats()["x509_ca"] == 0  # nothing parsed up front: looked up lazily


def test_a_ca_file_elsewhere_is_loaded_whole(
    hashed_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "my-bundle.pem"
    shutil.copy(SYSTEM_BUNDLE, elsewhere)
    monkeypatch.setenv("SSL_CERT_FILE", str(elsewhere))
    assert _system_capath() is None
    ctx = tls_context(ServerSettings("imap", "example.test", 993))
    assert ctx.cert_store_stats()["x509_ca"] > 50


def test_a_directory_without_hash_links_is_not_used(
    hashed_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (hashed_dir / "0123abcd.0").unlink()
    monkeypatch.setenv("SSL_CERT_FILE", str(hashed_dir / "ca-certificates.crt"))
    assert _system_capath() is None
