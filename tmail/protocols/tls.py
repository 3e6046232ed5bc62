"""The TLS client context every connection uses: verifying, TLS 1.2 or newer.

The system store plus the account's ``ca_file``, or a pinned certificate (``tmail account
trust``) as the only trust anchor. Host names are always checked; verification is never off.
"""

from __future__ import annotations

import os
import ssl

from tmail.config.model import ServerSettings


def _system_capath() -> str | None:
    """The system's hashed CA directory (``/etc/ssl/certs`` on Debian) when it holds the same
    certificates as the default CA file, else None (then the default loading is used).

    Start-up speed: ``ssl.create_default_context()`` parses the whole CA bundle (about 140
    certificates, 90 ms with OpenSSL 3.0 here) for every connection; a hashed directory is read
    lazily, one file for the issuer actually met (3 ms). Same trust: the directory is used only
    when the default CA file (SSL_CERT_FILE included) lies inside it, as update-ca-certificates
    writes it (Debian, Ubuntu), or when there is no CA file at all.
    """
    paths = ssl.get_default_verify_paths()
    capath = paths.capath
    if not capath or not os.path.isdir(capath):
        return None
    if paths.cafile and os.path.dirname(os.path.realpath(paths.cafile)) != os.path.realpath(capath):
        return None
    try:
        with os.scandir(capath) as entries:
            hashed = any(e.name.endswith(".0") for e in entries)
    except OSError:
        return None
    return capath if hashed else None


def tls_context(settings: ServerSettings) -> ssl.SSLContext:
    """A verifying client context: system store plus ``ca_file``, or only the pinned cert."""
    if settings.pinned_cert is not None:
        ctx = ssl.create_default_context(cafile=str(settings.pinned_cert))
        # The pinned certificate may be a leaf issued by a private CA: accept it as the anchor
        # without its issuer. Host names are still checked.
        ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    else:
        ctx = ssl.create_default_context(capath=_system_capath())
        if settings.ca_file is not None:
            ctx.load_verify_locations(cafile=str(settings.ca_file))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx
