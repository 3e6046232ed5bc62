"""Folder roles (tmail.core.roles): the one table every layer reads."""

from __future__ import annotations

import pytest

from tmail.core.roles import (
    COMMON_NAMES,
    SPECIAL_USE,
    Role,
    folder_for,
    is_outgoing,
    leaf_role,
    local_role,
    names_for,
    rank,
    role_of,
    special_use,
    special_use_role,
)

# Every name one of the five former tables knew (imap.py, backend.py, storesource.py, app.py,
# compose.py), with its role: each keeps it.
FORMER_NAMES = [
    ("INBOX", Role.INBOX),
    ("inbox", Role.INBOX),
    ("Sent", Role.SENT),
    ("Sent Items", Role.SENT),
    ("Sent Messages", Role.SENT),
    ("sent mail", Role.SENT),
    ("[Gmail]/Sent Mail", Role.SENT),
    ("Drafts", Role.DRAFTS),
    ("draft", Role.DRAFTS),
    ("[Gmail]/Drafts", Role.DRAFTS),
    ("Trash", Role.TRASH),
    ("Deleted Items", Role.TRASH),
    ("deleted messages", Role.TRASH),
    ("[gmail]/trash", Role.TRASH),
    ("Junk", Role.JUNK),
    ("Spam", Role.JUNK),
    ("Junk E-mail", Role.JUNK),
    ("Archive", Role.ARCHIVE),
    ("archives", Role.ARCHIVE),
]


@pytest.mark.parametrize(("name", "role"), FORMER_NAMES)
def test_every_name_a_former_table_knew_keeps_its_role(name: str, role: Role) -> None:
    assert role_of(name) is role


def test_a_whole_name_is_read_at_the_top_or_under_gmail_only() -> None:
    assert role_of("Lists/Sent") is None  # a folder of that name elsewhere is not Sent
    assert role_of("[Gmail]/Spam") is Role.JUNK
    assert role_of("Work") is None and role_of("[Gmail]/All Mail") is None


def test_the_last_path_element_names_a_role_wherever_the_folder_sits() -> None:
    assert leaf_role("INBOX.Sent Items", ".") is Role.SENT
    assert leaf_role("Old/Trash") is Role.TRASH
    assert leaf_role("Archive/Inbox") is None  # INBOX is a whole name only
    assert leaf_role("Work") is None


def test_a_special_use_attribute_beats_the_name() -> None:
    assert role_of("Papierkorb", ("\\HasNoChildren", "\\Trash")) is Role.TRASH
    assert role_of("Sent", ("\\junk",)) is Role.JUNK
    assert special_use_role(("\\noselect",)) is None


def test_the_attribute_to_create_a_roles_folder_with() -> None:
    assert special_use(Role.SENT) == "\\Sent" and special_use(Role.TRASH) == "\\Trash"
    assert special_use(Role.INBOX) is None and special_use(None) is None


@pytest.mark.parametrize("role", list(Role))
def test_names_for_a_role_start_with_its_local_name_and_each_has_that_role(role: Role) -> None:
    names = names_for(role)
    assert names[0] == role.value
    assert all(role_of(n) is role for n in names)
    assert local_role(role.value) is role


def test_local_names_are_exact() -> None:
    assert local_role("sent") is None and local_role("Sent Items") is None


def test_outgoing_folders_and_the_folder_list_order() -> None:
    assert is_outgoing("Sent") and is_outgoing("Lists/Drafts") and is_outgoing("Outbox")
    assert not is_outgoing("INBOX") and not is_outgoing("Trash")
    order = sorted([None, Role.TRASH, Role.SENT, Role.INBOX, Role.JUNK, Role.DRAFTS], key=rank)
    assert order == [Role.INBOX, Role.DRAFTS, Role.SENT, Role.JUNK, Role.TRASH, None]


def test_the_folder_for_a_role_is_the_preferred_name_that_exists() -> None:
    assert folder_for(Role.TRASH, ["Deleted Items", "trash", "INBOX"]) == "trash"
    assert folder_for("Sent", ["Sent Messages", "Sent Items"]) == "Sent Items"
    assert folder_for(Role.SENT, ["Lists/Sent", "[Gmail]/Sent Mail"]) == "[Gmail]/Sent Mail"
    assert folder_for(Role.DRAFTS, ["INBOX", "Archive"]) is None


def test_the_special_use_table_reads_attributes_in_lower_case() -> None:
    assert SPECIAL_USE["\\sent"] is Role.SENT and COMMON_NAMES["junk e-mail"] is Role.JUNK
    assert "inbox" not in COMMON_NAMES
