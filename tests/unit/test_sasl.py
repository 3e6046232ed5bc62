"""SASL for OAuth2 tokens (tmail.protocols.sasl): one choice and one payload for all protocols."""

from __future__ import annotations

from tmail.protocols.sasl import initial_response, oauth_mechanism, oauthbearer, xoauth2


def test_oauthbearer_is_preferred_and_names_compare_in_any_case() -> None:
    assert oauth_mechanism(["PLAIN", "xoauth2", "OAuthBearer"]) == "OAUTHBEARER"
    assert oauth_mechanism(["XOAUTH2", "LOGIN"]) == "XOAUTH2"
    assert oauth_mechanism(["PLAIN", "LOGIN"]) is None and oauth_mechanism([]) is None


def test_initial_responses() -> None:
    assert xoauth2("alice", "tok") == "user=alice\x01auth=Bearer tok\x01\x01"
    # RFC 7628 3.1: "," and "=" in the authorization identity are escaped
    assert oauthbearer("a,b=c", "mail.x.test", 993, "tok") == (
        "n,a=a=2Cb=3Dc,\x01host=mail.x.test\x01port=993\x01auth=Bearer tok\x01\x01"
    )
    assert initial_response("XOAUTH2", "alice", "tok", "h", 1) == xoauth2("alice", "tok")
    assert initial_response("OAUTHBEARER", "alice", "tok", "h", 1) == oauthbearer(
        "alice", "h", 1, "tok"
    )
