"""Director mode's storyboard: every edit checked against the beats, the clip limits and the locks, in plain core
code (no Prefect). A refused edit raises StoryboardError naming the field and leaves the stored storyboard as
it was; an accepted one comes back with a fresh estimate."""

from __future__ import annotations

import pytest

from core import budget
from core.contracts import ReferenceImage
from core.errors import BudgetError, StoryboardError
from core.prompts import build_prompt
from core.settings import Settings
from core.storyboard import (
    Storyboard,
    check,
    check_regenerate,
    direct,
    lock,
    merge,
    new_storyboard,
    script_digest,
    split,
)
from providers.offline.planner import plan_video
from tests.factories import make_analysis, make_request

SETTINGS = Settings()


def _board(duration: float = 30.0) -> Storyboard:
    """A 30 s song at 120 BPM (beats every 0.5 s) cut every 4 s: clips 0-4, 4-8, ... 24-30 (7 clips)."""
    audio = make_analysis(duration=duration)
    plan = plan_video(make_request(), audio)
    ref = ReferenceImage(uri=None, description="d", cache_key="k", palette=["#000000", "#ffffff", "#ff0000"],
                         provider="offline", status="failed")  # fmt: skip
    prompts = [build_prompt(plan, c, reference=ref) for c in plan.clips]
    return new_storyboard("job-1", make_request(), audio_sha256=audio.sha256, duration=audio.duration,
                          beats=audio.beats, plan=plan, boundaries=audio.boundaries, prompts=prompts,
                          settings=SETTINGS)  # fmt: skip


def test_new_storyboard_is_the_plan_as_it_would_render_and_passes_its_own_check() -> None:
    board = _board()
    assert board.cuts == [4.0, 8.0, 12.0, 16.0, 20.0, 24.0]
    assert board.slots() == [4.0] * 6 + [6.0]
    assert [c.written.prompt for c in board.clips if c.written] == [c.prompt for c in board.clips]
    assert board.estimate is not None and board.estimate.clips == 7
    assert check(board, SETTINGS, board).cuts == board.cuts


def test_moving_a_cut_to_another_beat_is_accepted_and_re_estimated() -> None:
    """Cut 2 moved from 12.0 to 11.5 s (a beat): clips 2 and 3 become 3.5 and 4.5 s."""
    board = _board()
    edited = board.model_copy(update={"cuts": [4.0, 8.0, 11.5, 16.0, 20.0, 24.0]})
    checked = check(edited, SETTINGS, board)
    assert checked.slots()[2:4] == [3.5, 4.5]
    assert checked.estimate is not None and checked.estimate.clips == 7


@pytest.mark.parametrize(
    ("case", "field", "words"),
    [
        ("cut off the beat (11.7 s)", "cuts[2]", "not a detected beat"),
        ("a clip shorter than 3 s (cut at 9.5 s)", "clips[2]", "1.50 s"),  # clip 2 runs 8.0-9.5
        ("cuts and clips disagree (cut 2 removed, clips kept)", "cuts", "need 6"),
        ("fewer than 3 clips", "clips", "at least 3"),
        ("another song's beats", "beats", "fixed"),
    ],
)
def test_bad_edits_are_refused_naming_the_field(case: str, field: str, words: str) -> None:
    board = _board()
    before = board.model_dump_json()
    cuts = list(board.cuts)
    if case.startswith("cut off"):
        cuts[2] = 11.7
        edited = board.model_copy(update={"cuts": cuts})
    elif case.startswith("a clip shorter"):
        cuts[1] = 8.0
        cuts[2] = 9.5
        edited = board.model_copy(update={"cuts": cuts})
    elif case.startswith("cuts and clips"):
        edited = board.model_copy(update={"cuts": cuts[:2] + cuts[3:]})
    elif case.startswith("fewer"):
        edited = board.model_copy(update={"cuts": [15.0], "clips": board.clips[:2]})
    else:
        edited = board.model_copy(update={"beats": [b + 0.1 for b in board.beats]})
    with pytest.raises(StoryboardError) as info:
        check(edited, SETTINGS, board)
    assert info.value.field == field, case
    assert words in str(info.value), str(info.value)
    assert board.model_dump_json() == before  # the stored storyboard is untouched


def test_merging_makes_a_clip_too_long_and_splitting_on_a_beat_makes_two() -> None:
    """Merging clips 0 and 1 (4 + 4 s) gives an 8 s clip: refused. Splitting clip 6 (24-30 s) at 27.0 s gives
    3 + 3 s: accepted, with 8 clips and one more transition (a hard cut)."""
    board = _board()
    with pytest.raises(StoryboardError) as info:
        check(merge(board, 0), SETTINGS, board)
    assert info.value.field == "clips[0]" and "8.00 s" in str(info.value)
    two = check(split(board, 6, 27.0), SETTINGS, board)
    assert len(two.clips) == len(two.plan.clips) == 8 and two.cuts[-1] == 27.0
    assert [t.to_index for t in two.plan.transitions] == list(range(1, 8))
    assert two.plan.transitions[-1].kind == "cut"
    assert two.estimate is not None and two.estimate.clips == 8
    # merging the two halves again restores a 6 s clip
    assert check(merge(two, 6), SETTINGS, two).slots()[-1] == 6.0


def test_locked_clip_keeps_its_cuts_script_and_prompt() -> None:
    board = _board()
    clips = list(board.clips)
    clips[3] = clips[3].model_copy(update={"locked": True})
    locked = board.model_copy(update={"clips": clips})
    moved = locked.model_copy(update={"cuts": [4.0, 8.0, 12.5, 16.0, 20.0, 24.0]})  # clip 3's start moves
    with pytest.raises(StoryboardError, match="clip 3 is locked"):
        check(moved, SETTINGS, locked)
    reprompted = list(locked.clips)
    reprompted[3] = reprompted[3].model_copy(update={"prompt": "something else"})
    with pytest.raises(StoryboardError, match="clip 3 is locked") as info:
        check(locked.model_copy(update={"clips": reprompted}), SETTINGS, locked)
    assert info.value.field == "clips[3]"
    # other clips stay editable around it
    assert check(locked.model_copy(update={"cuts": [4.0, 7.5, 12.0, 16.0, 20.0, 24.0]}), SETTINGS, locked)


def test_direct_keeps_the_written_prompt_unless_the_text_or_seed_was_edited() -> None:
    board = _board()
    plan = board.plan
    rewritten = board.clips[1].written.model_copy(update={"prompt": "words a paid writer chose this time"})  # type: ignore[union-attr]
    kept = direct(rewritten, board.clips[1], plan)
    assert kept.prompt == board.clips[1].prompt  # the script is unchanged: the reviewed prompt renders
    edited = board.clips[1].model_copy(update={"prompt": "a red boat", "seed": 42})
    assert (direct(rewritten, edited, plan).prompt, direct(rewritten, edited, plan).seed) == ("a red boat", 42)
    clips = [c.model_copy(update={"visual_description": "a storm"}) if c.index == 1 else c for c in plan.clips]
    new_plan = plan.model_copy(update={"clips": clips})
    assert script_digest(new_plan, 1) != board.clips[1].written_from
    assert direct(rewritten, board.clips[1], new_plan).prompt == rewritten.prompt  # script edited: new words


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"clip": 7, "variants": 1}, "clip"),  # clips are 0-6
        ({"clip": -1, "variants": 1}, "clip"),
        ({"clip": 1, "variants": 50}, "variants"),
        ({"clip": 1, "variants": 0}, "variants"),
        ({"clip": 1, "variants": 1, "running": True}, "job"),
        ({"clip": 1, "variants": 1, "locked": True}, "clip"),
    ],
)
def test_regenerate_requests_refused(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(StoryboardError) as info:
        check_regenerate(7, settings=SETTINGS, **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field
    check_regenerate(7, 6, 4, SETTINGS)  # the limits themselves pass


def test_variants_warn_past_the_budget_and_are_refused_past_the_hard_cap() -> None:
    assert budget.check_extra(0.5, 0.2, 1.0, 2.0, "2 variants") is None
    assert "over its budget" in (budget.check_extra(0.9, 0.2, 1.0, 2.0, "2 variants") or "")
    with pytest.raises(BudgetError, match="hard cap"):
        budget.check_extra(1.9, 0.2, 1.0, 2.0, "2 variants")


def test_estimate_prices_the_storyboards_own_clips() -> None:
    """Replicate wan-2.2 at 480p: 7 clips priced at each one's closest offered length, not 30 s / target."""
    s = Settings()
    s.providers.video = "replicate"
    board = _board()
    est = budget.estimate(board.duration, s, slots=board.slots())
    assert est.clips == 7
    assert [line for line in est.lines if line.stage == "video"][0].calls == 7


def test_split_defaults_to_the_beat_nearest_the_middle_and_refuses_a_time_outside_the_clip() -> None:
    """Clip 6 runs 24-30 s: split with no time cuts at 27.0 s; at 12.0 s (clip 2's end) is refused, naming `at`."""
    board = _board()
    assert check(split(board, 6), SETTINGS, board).cuts[-1] == 27.0
    with pytest.raises(StoryboardError) as info:
        split(board, 6, 12.0)
    assert info.value.field == "at" and "outside clip 6" in str(info.value)
    with pytest.raises(StoryboardError) as info:
        split(board, 9)
    assert info.value.field == "clip"


def test_a_locked_clip_cannot_be_split_or_merged_and_unlocking_is_an_edit_of_its_own() -> None:
    """Clip 6 locked: splitting it or merging clip 5 into it is refused; unlocking it alone is accepted, and after
    that the split is too. Unlocking and changing its prompt in one edit is refused."""
    board = _board()
    locked = check(lock(board, 6), SETTINGS, board)
    assert locked.clips[6].locked
    for edit in (split(locked, 6), merge(locked, 5)):
        with pytest.raises(StoryboardError, match="clip 6 is locked"):
            check(edit, SETTINGS, locked)
    unlocked = check(lock(locked, 6, False), SETTINGS, locked)
    assert not unlocked.clips[6].locked
    assert len(check(split(unlocked, 6), SETTINGS, unlocked).clips) == 8
    sneaky = lock(locked, 6, False)
    sneaky.clips[6] = sneaky.clips[6].model_copy(update={"prompt": "something else"})
    with pytest.raises(StoryboardError, match="clip 6 is locked"):
        check(sneaky, SETTINGS, locked)
