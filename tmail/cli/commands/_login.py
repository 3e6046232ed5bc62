"""``tmail account login NAME``: the first OAuth2 grant, in the browser, with the user's own client.

The flow itself is tmail.protocols.oauth2_flow (authorization code + PKCE, loopback redirect on
127.0.0.1); this module talks to the person: where to register a client when the account has
none, the URL to open, and the outcome in one line. The tokens go to the keyring only.
"""

from __future__ import annotations

import time
import webbrowser
from typing import TextIO

from tmail.cli.base import Context
from tmail.cli.commands._config import load
from tmail.config.model import Account
from tmail.config.oauth2 import PROVIDERS, endpoints
from tmail.core.errors import ConfigError
from tmail.core.safe import safe_line


def _register_steps(account: Account, out: TextIO) -> None:
    name = account.oauth2.provider if account.oauth2 else account.provider
    preset = PROVIDERS.get(name or "")
    if preset is None:
        out.write(
            f"To sign {account.name} in with OAuth2, register a client with your provider and add\n"
            f"[accounts.{account.name}.oauth2] with client_id, authorization_endpoint,\n"
            "token_endpoint and scopes (see man tmail, OAUTH2).\n"
        )
        return
    out.write(f"To sign {account.name} in to {preset.title}, register your own client first:\n")
    for i, step in enumerate(preset.register, 1):
        out.write(f"  {i}. {step.replace('NAME', account.name)}\n")
    out.write(f"  {len(preset.register) + 1}. run 'tmail account login {account.name}' again\n")


def login(ctx: Context) -> int:
    config = load(ctx)
    account = config.account(ctx.args.account)
    out = ctx.stdout
    if account.oauth2 is None:
        _register_steps(account, out)
        raise ConfigError(
            "this account has no [oauth2] settings",
            hint=f'add [accounts.{account.name}.oauth2] client_id = "..." to '
            f"{config.path or 'the config file'}",
        )
    return sign_in(account, out, no_browser=bool(ctx.args.no_browser), device=bool(ctx.args.device))


def sign_in(account: Account, out: TextIO, *, no_browser: bool, device: bool) -> int:
    """The first grant for an account with an [oauth2] table; 0 when signed in."""
    from tmail.protocols.oauth2_flow import login_with_browser, login_with_device

    ep = endpoints(account)

    def show(url: str) -> None:
        if not no_browser and webbrowser.open(url):
            out.write(f"Signing {account.name} in to {ep.title}: finish in the browser window.\n")
            out.write(f"If none opened, open this URL on this machine:\n{url}\n")
        else:
            out.write(f"Open this URL in a browser on this machine to sign {account.name} in:\n")
            out.write(f"{url}\n")
            out.write("(a browser elsewhere: forward the redirect_uri's port with ssh -L first)\n")
        out.flush()

    def show_code(code: str, uri: str, complete: str | None) -> None:
        out.write(f"To sign {account.name} in to {ep.title}, open {uri}\n")
        out.write(f"on any device and enter the code: {code}\n")
        if complete:
            out.write(f"(or open {complete})\n")
        out.write("Waiting for the sign-in...\n")
        out.flush()

    tokens = login_with_device(account, show_code) if device else login_with_browser(account, show)
    if tokens.expires_at:
        until = time.strftime("%H:%M", time.localtime(tokens.expires_at))
        valid = f"access token valid until {until}"
    else:
        valid = "access token received"
    renew = (
        "renewed by itself from the keyring"
        if tokens.refresh_token
        else "no refresh token: sign in again when it expires"
    )
    out.write(safe_line(f"Signed in: {account.name} ({valid}; {renew}).") + "\n")
    return 0
