"""Fixtures shared by every test: the real mail stack and a fresh mail user per test."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import oauth2server
from tests.support.mailstack import DOMAIN, MailStack, missing_requirements

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


def pytest_configure(config: pytest.Config) -> None:
    # A SIGTERM (CI time-out, kill) becomes KeyboardInterrupt so fixtures still tear down and
    # no Dovecot or Postfix is left running.
    def _interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, _interrupt)


@pytest.fixture(scope="session")
def mailstack(request: pytest.FixtureRequest) -> Iterator[MailStack]:
    """Dovecot + Postfix on free loopback ports for the whole session.

    Skips with the reason where the servers are missing, except under CI=true, where a missing
    server is a failure: the suite must never pass by testing nothing.
    """
    why = missing_requirements()
    if why:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"the mail stack is required in CI: {why}", pytrace=False)
        pytest.skip(f"mail stack unavailable: {why}")
    # Not under pytest's tmp dir: that is 0700 and Dovecot's and Postfix's own users must
    # reach their sockets and mail there.
    root = Path(tempfile.mkdtemp(prefix="tmail-mailstack-"))
    os.chmod(root, 0o755)
    stack = MailStack.start(root)
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line("")
            reporter.write_line(stack.describe())
    try:
        yield stack
    finally:
        stack.stop()
        if not os.environ.get("TMAIL_KEEP_MAILSTACK"):
            shutil.rmtree(root, ignore_errors=True)


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def oauth2_server_session(mailstack: MailStack) -> Iterator[oauth2server.OAuth2Server]:
    why = oauth2server.missing_requirements()
    if why:
        if _in_ci():
            pytest.fail(f"the OAuth2 server is required in CI: {why}", pytrace=False)
        pytest.skip(f"OAuth2 server unavailable: {why}")
    server = oauth2server.OAuth2Server.start(mailstack, oauth2server.log_path(mailstack))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def oauth2_server(
    oauth2_server_session: oauth2server.OAuth2Server,
) -> Iterator[oauth2server.OAuth2Server]:
    """oauth2-mock-server on the port the stack's Dovecot trusts, its test settings reset."""
    oauth2_server_session.reset()
    yield oauth2_server_session
    oauth2_server_session.reset()


@dataclass(frozen=True)
class MailUser:
    """A mailbox of its own on the test stack, so tests never see each other's mail."""

    name: str
    password: str
    stack: MailStack

    @property
    def address(self) -> str:
        return f"{self.name}@{DOMAIN}"


@pytest.fixture
def mail_user(mailstack: MailStack) -> MailUser:
    name = "u" + uuid.uuid4().hex[:10]
    mailstack.add_user(name, "pw-" + name)
    return MailUser(name, "pw-" + name, mailstack)


@pytest.fixture
def make_mail_user(mailstack: MailStack) -> object:
    """Call it for as many fresh users as a test needs."""

    def make(prefix: str = "u") -> MailUser:
        name = prefix + uuid.uuid4().hex[:10]
        mailstack.add_user(name, "pw-" + name)
        return MailUser(name, "pw-" + name, mailstack)

    return make


@pytest.fixture(scope="session")
def corpus() -> Path:
    """../shared/corpus, the real-world messages; fails in CI and skips elsewhere if absent."""
    if not CORPUS.is_dir():
        msg = f"the shared corpus is absent: expected it at {CORPUS}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    return CORPUS
