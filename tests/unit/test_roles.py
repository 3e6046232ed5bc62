"""Folder roles in one table (tmail.core.roles): the server side and the local store agree."""

from __future__ import annotations

from tmail.core.roles import COMMON_NAMES, folder_for, role_of
from tmail.protocols import imap


def test_the_server_side_names_are_those_imap_always_matched() -> None:
    assert COMMON_NAMES == {
        "sent": "Sent",
        "sent items": "Sent",
        "sent messages": "Sent",
        "drafts": "Drafts",
        "trash": "Trash",
        "deleted items": "Trash",
        "deleted messages": "Trash",
        "junk": "Junk",
        "spam": "Junk",
        "junk e-mail": "Junk",
        "archive": "Archive",
        "archives": "Archive",
    }
    assert imap.COMMON_NAMES is COMMON_NAMES
    assert imap.SPECIAL_USE[b"\\sent"] == "Sent" and imap.ROLE_USE["Trash"] == "\\Trash"


def test_a_local_folder_has_its_role_by_its_whole_name() -> None:
    assert role_of("Deleted Items") == "Trash" and role_of("[gmail]/sent mail") == "Sent"
    assert role_of("Lists/Trash") is None  # a user's subfolder named Trash is not the Trash
    assert role_of("INBOX") is None


def test_the_most_usual_name_wins_and_case_is_kept() -> None:
    assert folder_for("Trash", ["Deleted Items", "trash", "INBOX"]) == "trash"
    assert folder_for("Sent", ["Sent Messages", "Sent Items"]) == "Sent Items"
    assert folder_for("Drafts", ["INBOX", "Archive"]) is None
