"""One way to write a size: tmail.core.sizes.human_size, used by every view."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest

from tmail.cli import main
from tmail.core.sizes import human_size


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1000, "1.0 KB"),
        (1536, "1.5 KB"),
        (12_345, "12 KB"),
        (1023 * 1024, "1.0 MB"),
        (int(1.44 * 1024 * 1024), "1.4 MB"),
        (25 * 1024 * 1024, "25 MB"),
        (3 * 1024**3, "3.0 GB"),
    ],
)
def test_human_size(n: int, text: str) -> None:
    assert human_size(n) == text
    assert len(human_size(n)) <= 6  # a column of sizes lines up


def run(*argv: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    assert main(list(argv), stdout=out, stderr=err) == 0, err.getvalue()
    return out.getvalue()


def test_list_show_and_attachments_write_sizes_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tmail.store import Store

    payload = base64.encodebytes(b"x" * 12_345)
    raw = (
        b"From: a@x.test\r\nSubject: sizes\r\nMessage-ID: <s@x>\r\n"
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
        b"hi\r\n--b\r\nContent-Type: application/pdf; name=r.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + payload + b"--b--\r\n"
    )
    monkeypatch.setenv("TMAIL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TMAIL_CONFIG", str(tmp_path / "none.toml"))
    with Store.open(tmp_path) as store:
        mid = store.add_message("home", "INBOX", raw, uid=1)
    assert run("list").rstrip().endswith(" " + human_size(len(raw))) and len(raw) > 16_000
    assert "(application/pdf, 12 KB)" in run("show", str(mid))
    assert run("attachments", str(mid)).split() == ["1", "r.pdf", "application/pdf", "12", "KB"]
