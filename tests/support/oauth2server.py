"""The tests' OAuth2 authorization server: oauth2-mock-server (npm) on loopback.

``scripts/setup --test`` installs the pinned package into ``tests/oauth2server/node_modules``;
``tests/oauth2server/server.mjs`` starts it in its library form with the mail stack's signing key
and issuer, so the tokens it issues are the ones the stack's Dovecot validates itself. Started
once per session by the ``oauth2_server`` fixture (tests/conftest.py), only when a test asks.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.mailstack import MailStack

FOLDER = Path(__file__).resolve().parent.parent / "oauth2server"


def missing_requirements() -> str | None:
    """Why the server cannot start here, or None when it can."""
    if not shutil.which("node"):
        return "node is not installed (scripts/setup --test installs Debian's nodejs)"
    if not (FOLDER / "node_modules" / "oauth2-mock-server").is_dir():
        return f"oauth2-mock-server is not installed: run scripts/setup --test (npm ci in {FOLDER})"
    return None


@dataclass
class OAuth2Server:
    """A running oauth2-mock-server whose tokens the mail stack's Dovecot accepts."""

    issuer: str
    proc: subprocess.Popen[bytes] = field(repr=False)

    @property
    def authorization_endpoint(self) -> str:
        return f"{self.issuer}/authorize"

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/token"

    @property
    def device_authorization_endpoint(self) -> str:
        return f"{self.issuer}/device/code"

    def approve_device(self, user_code: str, login: str) -> None:
        """What the person does on the verification page: sign in as ``login`` and allow."""
        query = urllib.parse.urlencode({"user_code": user_code, "login": login})
        with urllib.request.urlopen(f"{self.issuer}/device?{query}", timeout=10):
            pass

    def deny_device(self, user_code: str) -> None:
        query = urllib.parse.urlencode({"user_code": user_code, "deny": "1"})
        with urllib.request.urlopen(f"{self.issuer}/device?{query}", timeout=10):
            pass

    @classmethod
    def start(cls, stack: MailStack, log: Path) -> OAuth2Server:
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                [
                    "node", str(FOLDER / "server.mjs"), str(stack.ports.oauth2),
                    str(stack.oauth2_jwk), stack.oauth2_issuer,
                ],
                stdout=subprocess.PIPE,
                stderr=out,
                stdin=subprocess.DEVNULL,
                cwd=FOLDER,
            )  # fmt: skip
        assert proc.stdout is not None
        line = proc.stdout.readline().decode(errors="replace").strip()
        if not line.startswith("ready "):
            proc.kill()
            proc.wait(timeout=5)
            raise RuntimeError(f"the OAuth2 server did not start: {line!r}; see {log}")
        return cls(issuer=line.split(" ", 1)[1].rstrip("/"), proc=proc)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.proc.stdout is not None:
            with contextlib.suppress(OSError):
                self.proc.stdout.close()

    # ---------------------------------------------------------------- test controls
    def _post(self, path: str, body: dict[str, object]) -> None:
        req = urllib.request.Request(
            self.issuer + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=10):
            pass

    def revoke(self, sub: str) -> None:
        """The provider revokes every refresh token of ``sub`` (they get ``invalid_grant``)."""
        self._post("/__test/revoke", {"sub": sub})

    def set(self, **settings: object) -> None:
        """Change the next answers: ``expires_in=SECONDS``, ``no_refresh_token=True``,
        ``device_interval``, ``device_expires_in``, ``device_slow_down=TIMES``."""
        self._post("/__test/set", settings)

    def reset(self) -> None:
        self.set(
            expires_in=None,
            no_refresh_token=False,
            device_interval=1,
            device_expires_in=600,
            device_slow_down=0,
        )

    def grants(self) -> list[str]:
        """The grant types the token endpoint answered so far, in order."""
        with urllib.request.urlopen(self.issuer + "/__test/grants", timeout=10) as resp:
            return list(json.loads(resp.read()))


def log_path(stack: MailStack) -> Path:
    return Path(os.fspath(stack.root)) / "oauth2server.log"
