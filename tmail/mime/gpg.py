"""The user's own GnuPG: decrypt, verify, sign and encrypt through the ``gpg`` program.

python-gnupg drives the ``gpg`` binary through ``--status-fd``, so every operation uses the user's
keyring, ``gpg-agent`` and pinentry exactly as the command line does. GPGME's Python bindings
(PyPI ``gpg``) do not build or import on the Python tmail runs on (../shared GNUPG.md), and
Debian's ``python3-gpg`` serves only the system Python.

Only this module knows python-gnupg; the rest of tmail sees :class:`GpgOutcome` (the output bytes
and gpg's status lines), which :mod:`tmail.mime.pgp` reads. Plain text goes through pipes only:
nothing decrypted is written to a file. A detached signature (not secret) is the one thing
written, to a private temporary directory removed at once, because ``gpg --verify`` reads the
signature from a file when the signed data comes on standard input.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from tmail.mime.pgp import GpgOutcome

_STATUS_PREFIX = "[GNUPG:] "


def _status_lines(stderr: str) -> tuple[str, ...]:
    return tuple(
        line[len(_STATUS_PREFIX) :].strip()
        for line in stderr.splitlines()
        if line.startswith(_STATUS_PREFIX)
    )


def _failed(why: str) -> GpgOutcome:
    return GpgOutcome(False, b"", (), why)


class GnupgBackend:
    """GnuPG with the user's home (``$GNUPGHOME`` or ``~/.gnupg``) unless ``home`` is given.

    Each method returns a :class:`GpgOutcome` and never raises.
    """

    def __init__(self, home: str | None = None, binary: str = "gpg") -> None:
        self.home = home
        self.binary = binary
        self._gpg: Any = None

    def _handle(self) -> Any:
        if self._gpg is None:
            import gnupg  # loaded on the first PGP message: most sessions never need it

            if shutil.which(self.binary) is None:
                raise OSError(f"{self.binary} not found: install GnuPG (Debian: apt install gnupg)")
            self._gpg = gnupg.GPG(gpgbinary=self.binary, gnupghome=self.home)
            self._gpg.encoding = "utf-8"
        return self._gpg

    def _run(self, call: Any) -> GpgOutcome:
        try:
            result = call(self._handle())
        except (OSError, ValueError) as exc:
            return _failed(str(exc) or type(exc).__name__)
        stderr = result.stderr or ""
        status = _status_lines(stderr)
        data = result.data if isinstance(result.data, bytes) else b""
        return GpgOutcome(bool(getattr(result, "returncode", 1) == 0), data, status)

    def decrypt(self, data: bytes) -> GpgOutcome:
        """Decrypt an OpenPGP message, or read a clear-signed one; either way the plain text
        comes back in ``data`` (from a pipe) and any signature's verdict in ``status``."""
        return self._run(lambda g: g.decrypt(data))

    def verify_detached(self, data: bytes, signature: bytes) -> GpgOutcome:
        """Check ``signature`` (a detached signature) over ``data``."""
        folder = Path(tempfile.mkdtemp(prefix="tmail-sig-"))  # mode 0700
        try:
            sig = folder / "signature.asc"
            sig.write_bytes(signature)
            return self._run(lambda g: g.verify_data(str(sig), data))
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def key_uids(self, keys: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """The user ids of each key in the keyring, by every fingerprint and key id that names
        it (of the key and of its subkeys); keys not in the keyring are left out."""
        wanted = [k for k in keys if k]
        if not wanted:
            return {}
        try:
            listed = self._handle().list_keys(keys=wanted)
        except (OSError, ValueError):
            return {}
        found: dict[str, tuple[str, ...]] = {}
        for key in listed:
            uids = tuple(str(u) for u in key.get("uids", ()))
            names = [key.get("fingerprint", ""), key.get("keyid", "")]
            for sub in key.get("subkeys", ()):
                names.extend(str(s) for s in sub[:1] if s)  # the subkey's id
                names.extend(str(s) for s in sub[2:3] if s)  # and its fingerprint
            for name in names:
                if name:
                    found[name.upper()] = uids
        return found

    def sign_detached(self, data: bytes, key: str | None = None) -> GpgOutcome:
        """An ASCII-armored detached signature over ``data``; ``status`` has ``SIG_CREATED``
        with the hash gpg really used (for ``micalg``)."""
        return self._run(lambda g: g.sign(data, keyid=key, detach=True, binary=False))

    def encrypt(
        self, data: bytes, recipients: Sequence[str], sign_key: str | None = None
    ) -> GpgOutcome:
        """``data`` encrypted (ASCII armor) to the keys ``recipients`` (fingerprints chosen by
        :meth:`find_key`, hence gpg's "always trust": the choice is made there, as mutt does),
        signed in the same pass with ``sign_key`` when given."""
        return self._run(
            lambda g: g.encrypt(
                data, list(recipients), sign=sign_key, armor=True, always_trust=True
            )
        )

    def find_key(self, address: str, secret: bool = False) -> str | None:
        """The fingerprint of a key in the keyring with a user id of exactly ``address`` that
        can encrypt (``secret``: of which the secret part is here, for signing), not expired,
        revoked or disabled; None when there is none."""
        try:
            g = self._handle()
            keys = g.list_keys(keys=[f"<{address}>"])
            mine = {k.get("fingerprint") for k in g.list_keys(secret=True)} if secret else None
        except (OSError, ValueError):
            return None
        for key in keys:
            if str(key.get("trust", "")) in ("e", "r", "d", "i", "n"):
                continue  # expired, revoked, disabled, invalid, or never to be used
            if mine is not None and key.get("fingerprint") not in mine:
                continue
            cap = str(key.get("cap", ""))
            if ("S" if secret else "E") in cap:  # capital: the key as a whole can
                return str(key.get("fingerprint"))
        return None

    def export_minimal(self, fingerprint: str) -> bytes:
        """The public key, binary, without other keys' signatures (for an Autocrypt header)."""
        try:
            data = self._handle().export_keys(fingerprint, armor=False, minimal=True)
        except (OSError, ValueError):
            return b""
        return data if isinstance(data, bytes) else b""

    def import_key(self, keydata: bytes) -> tuple[str, ...]:
        """Import public key material; the fingerprints imported."""
        try:
            result = self._handle().import_keys(keydata)
        except (OSError, ValueError):
            return ()
        return tuple(str(f) for f in result.fingerprints if f)


def default_backend() -> GnupgBackend:
    """The backend for the user's own keyring (``$GNUPGHOME`` if set)."""
    return GnupgBackend(os.environ.get("GNUPGHOME") or None)
