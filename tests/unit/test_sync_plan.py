"""The sync planner, case by case by name, then its invariants with hypothesis."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tmail.core.models import Flag
from tmail.sync.plan import (
    Action,
    DeleteRemote,
    Fetch,
    Flags,
    ForgetTombstone,
    PushFlags,
    RemoveLocal,
    SetLocalFlags,
    merge_flags,
    plan,
    plan_pop3,
)

S, F, R = Flag.SEEN, Flag.FLAGGED, Flag.REPLIED
NONE: Flags = frozenset()


def fs(*flags: Flag) -> Flags:
    return frozenset(flags)


# ------------------------------------------------------------------ presence cases, by name


def test_new_on_server_is_fetched_with_its_flags() -> None:
    assert plan({}, {}, {7: fs(S)}) == [Fetch(7, fs(S))]


def test_unchanged_everywhere_does_nothing() -> None:
    assert plan({1: fs(S)}, {1: fs(S)}, {1: fs(S)}) == []


def test_expunged_on_server_is_removed_locally() -> None:
    assert plan({1: NONE}, {1: NONE}, {}) == [RemoveLocal(1)]


def test_expunged_on_server_wins_over_a_pending_local_flag_change() -> None:
    assert plan({1: NONE}, {1: fs(S)}, {}) == [RemoveLocal(1)]


def test_deleted_locally_is_deleted_on_server() -> None:
    assert plan({1: NONE}, {1: None}, {1: NONE}) == [DeleteRemote(1)]


def test_deleted_on_both_sides_only_clears_the_tombstone() -> None:
    assert plan({1: NONE}, {1: None}, {}) == [ForgetTombstone(1)]


def test_forgotten_on_both_sides_is_nothing() -> None:
    assert plan({1: fs(S)}, {}, {}) == []


def test_stored_but_state_lost_takes_server_flags() -> None:
    # Crash after the file was committed, before the sync state was: no base.
    assert plan({}, {3: NONE}, {3: fs(S, F)}) == [SetLocalFlags(3, fs(S, F))]


def test_local_uid_unknown_to_server_is_removed_locally() -> None:
    assert plan({}, {4: fs(S)}, {}) == [RemoveLocal(4)]


def test_flag_set_locally_is_pushed() -> None:
    assert plan({1: NONE}, {1: fs(S)}, {1: NONE}) == [PushFlags(1, add=fs(S), remove=NONE)]


def test_flag_cleared_locally_is_pushed() -> None:
    assert plan({1: fs(S)}, {1: NONE}, {1: fs(S)}) == [PushFlags(1, add=NONE, remove=fs(S))]


def test_flag_set_on_server_is_pulled() -> None:
    assert plan({1: NONE}, {1: NONE}, {1: fs(F)}) == [SetLocalFlags(1, fs(F))]


def test_different_flags_changed_on_each_side_both_survive() -> None:
    actions = plan({1: NONE}, {1: fs(S)}, {1: fs(F)})
    assert actions == [PushFlags(1, add=fs(S), remove=NONE), SetLocalFlags(1, fs(S, F))]


def test_same_flag_changed_on_both_sides_agrees_without_traffic() -> None:
    assert plan({1: NONE}, {1: fs(S)}, {1: fs(S)}) == []


def test_local_clear_beats_unchanged_server_flag() -> None:
    assert merge_flags(fs(S, F), fs(F), fs(S, F)) == fs(F)


def test_actions_come_in_uid_order() -> None:
    actions = plan({}, {}, {9: NONE, 2: NONE, 5: NONE})
    assert [a.uid for a in actions] == [2, 5, 9]


# ------------------------------------------------------------------------------ invariants

flag_sets = st.frozensets(st.sampled_from(list(Flag)), max_size=3)
uids = st.integers(min_value=1, max_value=30)


@st.composite
def three_views(
    draw: st.DrawFn,
) -> tuple[dict[int, Flags], dict[int, Flags | None], dict[int, Flags]]:
    last = draw(st.dictionaries(uids, flag_sets, max_size=15))
    local: dict[int, Flags | None] = {}
    remote: dict[int, Flags] = {}
    for uid, flags in last.items():
        # Each side independently kept, changed or dropped what was last agreed.
        match draw(st.sampled_from(["keep", "change", "delete", "gone"])):
            case "keep":
                local[uid] = flags
            case "change":
                local[uid] = draw(flag_sets)
            case "delete":
                local[uid] = None
            case "gone":
                pass
        match draw(st.sampled_from(["keep", "change", "gone"])):
            case "keep":
                remote[uid] = flags
            case "change":
                remote[uid] = draw(flag_sets)
            case "gone":
                pass
    for uid in draw(st.sets(st.integers(min_value=31, max_value=60), max_size=10)):
        remote[uid] = draw(flag_sets)  # new mail on the server
    return last, local, remote


def apply(
    actions: list[Action], local: dict[int, Flags | None], remote: dict[int, Flags]
) -> tuple[dict[int, Flags], dict[int, Flags]]:
    """Carry the actions out on two dictionaries the way the engine does on store and server."""
    loc = dict(local)
    rem = dict(remote)
    for a in actions:
        match a:
            case Fetch(uid, flags):
                assert uid not in loc, "fetched a message already held locally"
                loc[uid] = flags
            case SetLocalFlags(uid, flags):
                loc[uid] = flags
            case PushFlags(uid, add, remove):
                rem[uid] = (rem[uid] | add) - remove
            case RemoveLocal(uid) | ForgetTombstone(uid):
                del loc[uid]
            case DeleteRemote(uid):
                del rem[uid]
                del loc[uid]
    assert all(v is not None for v in loc.values())
    return {k: v for k, v in loc.items() if v is not None}, rem


@settings(max_examples=200, deadline=None)
@given(three_views())
def test_after_the_plan_both_sides_agree(
    views: tuple[dict[int, Flags], dict[int, Flags | None], dict[int, Flags]],
) -> None:
    last, local, remote = views
    loc, rem = apply(plan(last, local, remote), local, remote)
    assert loc == rem


@settings(max_examples=200, deadline=None)
@given(three_views())
def test_nothing_on_the_server_is_lost_unless_deleted_locally(
    views: tuple[dict[int, Flags], dict[int, Flags | None], dict[int, Flags]],
) -> None:
    last, local, remote = views
    actions = plan(last, local, remote)
    loc, rem = apply(actions, local, remote)
    for uid in remote:
        if local.get(uid, NONE) is not None:
            assert uid in loc and uid in rem
    deleted_remotely = {a.uid for a in actions if isinstance(a, DeleteRemote)}
    assert deleted_remotely == {u for u, v in local.items() if v is None and u in remote}


@settings(max_examples=200, deadline=None)
@given(three_views())
def test_nothing_is_fetched_twice_and_a_second_plan_is_empty(
    views: tuple[dict[int, Flags], dict[int, Flags | None], dict[int, Flags]],
) -> None:
    last, local, remote = views
    actions = plan(last, local, remote)
    fetched = [a.uid for a in actions if isinstance(a, Fetch)]
    assert len(fetched) == len(set(fetched))
    assert not set(fetched) & set(local)
    loc, rem = apply(actions, local, remote)
    assert plan(loc, dict(loc), rem) == []


@settings(max_examples=200, deadline=None)
@given(flag_sets, flag_sets, flag_sets)
def test_merge_keeps_every_one_sided_change(last: Flags, local: Flags, remote: Flags) -> None:
    merged = merge_flags(last, local, remote)
    for flag in Flag:
        if (flag in local) != (flag in last):
            assert (flag in merged) == (flag in local)
        elif (flag in remote) != (flag in last):
            assert (flag in merged) == (flag in remote)
        else:
            assert (flag in merged) == (flag in last)


# ------------------------------------------------------------------------------------ POP3


def test_pop3_new_uidl_is_fetched_and_kept_on_server_by_default() -> None:
    p = plan_pop3(
        [(1, "a"), (2, "b")], {"a": 0.0}, now=10.0, leave_on_server=True, delete_after=None
    )
    assert p.fetch == ((2, "b"),) and p.delete == ()


def test_pop3_stored_message_is_deleted_when_not_left_on_server() -> None:
    p = plan_pop3(
        [(1, "a"), (2, "b")], {"a": 0.0}, now=1.0, leave_on_server=False, delete_after=None
    )
    assert p.fetch == ((2, "b"),) and p.delete == ((1, "a"),)


def test_pop3_delete_after_waits_for_its_age() -> None:
    listing = [(1, "old"), (2, "young")]
    stored = {"old": 0.0, "young": 500.0}
    p = plan_pop3(listing, stored, now=700.0, leave_on_server=True, delete_after=600.0)
    assert p.delete == ((1, "old"),) and p.fetch == ()


def test_pop3_duplicate_uidl_is_fetched_once_and_never_deleted() -> None:
    listing = [(1, "x"), (2, "x")]
    assert plan_pop3(listing, {}, now=0, leave_on_server=False, delete_after=None).fetch == (
        (1, "x"),
    )
    p = plan_pop3(listing, {"x": 0.0}, now=0, leave_on_server=False, delete_after=None)
    assert p.delete == () and p.fetch == ()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.text(min_size=1, max_size=3), max_size=20),
    st.dictionaries(st.text(min_size=1, max_size=3), st.floats(0, 100), max_size=20),
    st.booleans(),
    st.none() | st.floats(0, 100),
)
def test_pop3_never_deletes_what_is_not_stored(
    uidls: list[str], stored: dict[str, float], leave: bool, after: float | None
) -> None:
    listing = list(enumerate(uidls, 1))
    p = plan_pop3(listing, stored, now=100.0, leave_on_server=leave, delete_after=after)
    assert all(u in stored for _n, u in p.delete)
    assert not {u for _n, u in p.fetch} & set(stored)
    assert {u for _n, u in p.fetch} == set(uidls) - set(stored)


def test_pop3_message_kept_headers_only_is_never_deleted() -> None:
    listing = [(1, "a"), (2, "b")]
    p = plan_pop3(
        listing, {"a": 0.0, "b": 0.0}, now=1e9, leave_on_server=False, delete_after=0.0, keep={"b"}
    )
    assert p.fetch == () and p.delete == ((1, "a"),)
