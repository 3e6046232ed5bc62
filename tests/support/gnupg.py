"""Real GnuPG homes with keys made for one test, and messages built the way other clients build
them (mutt, Thunderbird, Enigmail inline) with the ``gpg`` command line.

Each :class:`GpgUser` has its own GNUPGHOME under a SHORT path (``/tmp/gXXXX``): gpg-agent puts
its sockets there, and a path as long as pytest's ``tmp_path`` makes every operation fail with
"No agent running" (../shared/mailstack/GNUPG.md). Keys have no passphrase, so no pinentry is
ever asked for; :meth:`GpgUser.close` stops the home's agent and removes the home. The user's own
keyring is never touched: every command gets ``--homedir``.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from email.utils import formatdate, make_msgid
from pathlib import Path


@dataclass
class GpgUser:
    name: str
    addr: str
    home: str
    fingerprint: str = ""
    sign_options: tuple[str, ...] = ()  # added to every signing (e.g. --faked-system-time)
    _closed: bool = field(default=False, repr=False)

    @classmethod
    def make(
        cls, name: str, addr: str, passphrase: str = "", *, born: str = "", expire: str = "0"
    ) -> GpgUser:
        """A home with a new key; with ``passphrase``, one that the agent asks for through
        the pinentry in ``gpg-agent.conf`` (pinentry-curses, on ``$GPG_TTY``)."""
        home = tempfile.mkdtemp(prefix="g", dir="/tmp")  # short: the agent's socket lives here
        os.chmod(home, 0o700)
        user = cls(name, addr, home)
        pw = ["--pinentry-mode", "loopback", "--passphrase", passphrase]
        if born:  # a key made in the past (gpg's faked system time), e.g. expired by now
            pw += ["--faked-system-time", born]
            user.sign_options = ("--faked-system-time", born)
        user.gpg(*pw, "--quick-gen-key", f"{name} <{addr}>", "ed25519", "sign", expire)
        user.fingerprint = user.fpr_of(addr)
        user.gpg(*pw, "--quick-add-key", user.fingerprint, "cv25519", "encr", expire)
        if passphrase:
            Path(home, "gpg-agent.conf").write_text("pinentry-program /usr/bin/pinentry-curses\n")
            subprocess.run(
                ["gpgconf", "--homedir", home, "--kill", "gpg-agent"],
                capture_output=True,
                check=False,
                timeout=30,
            )  # the next operation starts an agent that reads the file
        return user

    def gpg(self, *args: str, data: bytes | None = None, check: bool = True) -> bytes:
        done = subprocess.run(
            ["gpg", "--homedir", self.home, "--batch", "--yes", *args],
            input=data,
            capture_output=True,
            check=False,
            timeout=60,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"gpg {' '.join(args)}: {done.stderr.decode(errors='replace')}")
        return done.stdout

    def fpr_of(self, who: str) -> str:
        out = self.gpg("--with-colons", "--list-keys", who).decode()
        return next(line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:"))

    def public_key(self) -> bytes:
        return self.gpg("--armor", "--export", self.fingerprint)

    def learn(self, other: GpgUser, *, certify: bool = False) -> None:
        """Import ``other``'s public key; ``certify``: sign it locally (its validity: full)."""
        self.gpg("--import", data=other.public_key())
        if certify:
            self.gpg("--quick-lsign-key", other.fingerprint)

    def env(self) -> dict[str, str]:
        return {**os.environ, "GNUPGHOME": self.home}

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        subprocess.run(
            ["gpgconf", "--homedir", self.home, "--kill", "gpg-agent"],
            capture_output=True,
            check=False,
            timeout=30,
        )
        shutil.rmtree(self.home, ignore_errors=True)

    # --- what other clients send -----------------------------------------------------------

    def detach_sign(self, data: bytes, *extra: str) -> bytes:
        return self.gpg(
            *self.sign_options,
            "--armor",
            "--detach-sign",
            "-u",
            self.fingerprint,
            *extra,
            data=data,
        )

    def encrypt(self, data: bytes, *to: str, sign: bool = False) -> bytes:
        args = ["--armor", "--encrypt", "--trust-model", "always"]
        for who in to:
            args += ["-r", who]
        if sign:
            args += ["--sign", "-u", self.fingerprint]
        return self.gpg(*args, data=data)

    def clearsign(self, text: bytes) -> bytes:
        return self.gpg(*self.sign_options, "--clearsign", "-u", self.fingerprint, data=text)

    def revocation(self) -> bytes:
        """The revocation certificate gpg made with the key (importing it revokes the key)."""
        rev = Path(self.home, "openpgp-revocs.d", f"{self.fingerprint}.rev").read_bytes()
        return rev.replace(
            b":-----BEGIN PGP PUBLIC KEY BLOCK-----", b"-----BEGIN PGP PUBLIC KEY BLOCK-----"
        )


def envelope(sender: GpgUser, to: str, subject: str) -> bytes:
    return (
        f"From: {sender.name} <{sender.addr}>\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Date: {formatdate()}\r\nMessage-ID: {make_msgid(domain='example.test')}\r\n"
        "MIME-Version: 1.0\r\n"
    ).encode()


def mime_signed(sender: GpgUser, to: str, subject: str, inner: bytes, micalg: str = "") -> bytes:
    """multipart/signed as mutt builds it: the signature is over ``inner`` with CRLF ends."""
    inner = inner.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    signature = sender.detach_sign(inner)
    micalg = micalg or "pgp-sha256"
    return (
        envelope(sender, to, subject)
        + b'Content-Type: multipart/signed; micalg="'
        + micalg.encode()
        + b'"; protocol="application/pgp-signature"; boundary="sig-b0undary"\r\n\r\n'
        + b"This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\r\n"
        + b"--sig-b0undary\r\n"
        + inner
        + b"\r\n--sig-b0undary\r\n"
        + b'Content-Type: application/pgp-signature; name="signature.asc"\r\n'
        + b"Content-Description: OpenPGP digital signature\r\n"
        + b'Content-Disposition: attachment; filename="signature.asc"\r\n\r\n'
        + signature
        + b"\r\n--sig-b0undary--\r\n"
    )


def mime_encrypted(
    sender: GpgUser, to: GpgUser | str, subject: str, inner: bytes, *, sign: bool = True
) -> bytes:
    """multipart/encrypted as Thunderbird builds it: ``inner`` encrypted (and signed in the same
    pass) to the recipient and to the sender."""
    rcpt = to.addr if isinstance(to, GpgUser) else to
    inner = inner.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    armored = sender.encrypt(inner, rcpt, sender.addr, sign=sign)
    return (
        envelope(sender, rcpt, subject)
        + b'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; '
        + b'boundary="enc-b0undary"\r\n\r\n'
        + b"This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n"
        + b"--enc-b0undary\r\n"
        + b"Content-Type: application/pgp-encrypted\r\n"
        + b"Content-Description: PGP/MIME version identification\r\n\r\n"
        + b"Version: 1\r\n\r\n"
        + b"--enc-b0undary\r\n"
        + b'Content-Type: application/octet-stream; name="encrypted.asc"\r\n'
        + b"Content-Description: OpenPGP encrypted message\r\n"
        + b'Content-Disposition: inline; filename="encrypted.asc"\r\n\r\n'
        + armored
        + b"\r\n--enc-b0undary--\r\n"
    )


def inline_message(sender: GpgUser, to: str, subject: str, body: bytes) -> bytes:
    """A text/plain message whose body is an armored block (Enigmail's inline PGP)."""
    return (
        envelope(sender, to, subject)
        + b"Content-Type: text/plain; charset=utf-8\r\n"
        + b"Content-Transfer-Encoding: 8bit\r\n\r\n"
        + body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    )


def with_attachment(text: str, name: str, data: bytes) -> bytes:
    """A multipart/mixed entity: a text part and one attachment (base64)."""
    encoded = base64.encodebytes(data)
    return (
        b'Content-Type: multipart/mixed; boundary="mix-b0undary"\r\n\r\n'
        b"--mix-b0undary\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + text.encode() + b"\r\n"
        b"--mix-b0undary\r\n"
        b"Content-Type: application/octet-stream\r\n"
        b'Content-Disposition: attachment; filename="' + name.encode() + b'"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + encoded + b"--mix-b0undary--\r\n"
    )


def text_entity(text: str) -> bytes:
    return (
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + text.encode() + b"\r\n"
    )
