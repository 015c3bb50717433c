"""Playlist format and the player's timing: pure Python, no py5."""

from pathlib import Path

import pytest

from sketches.lib.playlist import (DEFAULT_FLY, DEFAULT_HOLD, Move, PlaylistError, PlaylistPlayer, default_playlist,
                                   load_playlist, parse_playlist)

EXAMPLE = Path(__file__).resolve().parents[2] / "assets" / "playlists" / "example.json"
NAMES = ("blur", "combined")

STEPS = [
    {"layout": "blur", "state": "tsne", "hold": 2},
    {"layout": "blur", "state": "grid", "fly": 1, "hold": 3},
    {"layout": "combined", "state": "grid", "fly": 0.5, "hold": 0.25, "easing": "linear"},
]


def playlist(loop=True, **top):
    return parse_playlist({"loop": loop, "fly": 4, "hold": 6, **top, "steps": STEPS}, NAMES, "test.json")


def test_default_playlist_of_the_default_build_is_blur_tsne_grid_combined_grid_tsne():
    default = default_playlist(NAMES)
    assert [(s.layout, s.state) for s in default.steps] == [
        ("blur", "tsne"), ("blur", "grid"), ("combined", "grid"), ("combined", "tsne")]
    assert default.loop
    assert default.single_pass_duration() == pytest.approx(DEFAULT_HOLD + 3 * (DEFAULT_FLY + DEFAULT_HOLD))
    example = load_playlist(EXAMPLE, NAMES)          # the README's example plays the same moves
    assert [(s.layout, s.state) for s in example.steps] == [(s.layout, s.state) for s in default.steps]


def test_default_playlist_visits_every_layout_of_the_file_in_order_one_change_at_a_time():
    names = ["colour", "mid", "objects"]
    steps = default_playlist(names).steps
    assert [(s.layout, s.state) for s in steps] == [
        ("colour", "tsne"), ("colour", "grid"), ("mid", "grid"), ("mid", "tsne"), ("objects", "tsne"),
        ("objects", "grid")]
    assert [(s.layout, s.state) for s in default_playlist(["only"]).steps] == [("only", "tsne"), ("only", "grid")]
    recording = default_playlist(names, first_hold=0.0, first_easing="back-out")   # record.py's: flies at once
    assert recording.steps[0].hold == 0 and recording.steps[1].easing == "back-out"
    assert recording.steps[2:] == steps[2:]
    player = PlaylistPlayer(recording)
    player.start(0.0)
    assert player.update(0.0) == [Move("colour", "grid", 0.0, DEFAULT_FLY, "back-out")]


def test_steps_name_any_layout_of_the_file_and_nothing_else():
    data = {"steps": [{"layout": "objects", "state": "grid"}, {"layout": "blur", "state": "tsne"}]}
    assert parse_playlist(data, ["blur", "objects"], "show.json").steps[0].layout == "objects"
    with pytest.raises(PlaylistError) as err:
        parse_playlist(data, ["colour", "objects"], "show.json", "my.json")
    assert str(err.value) == "show.json: steps[1]: layout 'blur' is not one of my.json's (colour, objects)"


def test_step_values_fall_back_to_the_playlist_defaults():
    steps = playlist(easing="sine-in-out").steps
    assert (steps[0].fly, steps[0].hold, steps[0].easing) == (4.0, 2.0, "sine-in-out")
    assert (steps[1].fly, steps[1].hold, steps[1].easing) == (1.0, 3.0, "sine-in-out")
    assert (steps[2].fly, steps[2].hold, steps[2].easing) == (0.5, 0.25, "linear")
    assert playlist().single_pass_duration() == pytest.approx(2 + 4 + 0.75)


@pytest.mark.parametrize("data, message", [
    ([], "top level is not a JSON object"),
    ({"format": "other", "steps": STEPS}, "not a tsne-gallery playlist"),
    ({"version": 2, "steps": STEPS}, "version 2"),
    ({"steps": []}, "'steps' must be a non-empty list"),
    ({"loop": "yes", "steps": STEPS}, "'loop' must be true or false"),
    ({"steps": [{"layout": "colour", "state": "grid"}]}, "steps[0]: layout 'colour' is not one of the layout file's"),
    ({"steps": [{"layout": "blur", "state": "spiral"}]}, "steps[0]: 'state' must be one of tsne, grid"),
    ({"steps": [{"layout": "blur", "state": "grid", "fly": -1}]}, "steps[0]: 'fly' must be a number"),
    ({"hold": "long", "steps": STEPS}, "playlist: 'hold' must be a number"),
    ({"steps": [{"layout": "blur", "state": "grid", "fly": 0, "hold": 0}]}, "fly + hold must be more than 0"),
    ({"steps": [{"layout": "blur", "state": "grid", "easing": "wobble"}]}, "unknown easing 'wobble' (one of linear"),
])
def test_bad_playlists_are_rejected_with_the_reason(data, message):
    with pytest.raises(PlaylistError) as err:
        parse_playlist(data, NAMES, "show.json")
    assert str(err.value).startswith("show.json: ")
    assert message in str(err.value)


def test_missing_and_broken_playlist_files_name_the_file(tmp_path):
    with pytest.raises(PlaylistError, match="nope.json: no such playlist file"):
        load_playlist(tmp_path / "nope.json", NAMES)
    broken = tmp_path / "broken.json"
    broken.write_text('{"steps": [')
    with pytest.raises(PlaylistError, match=r"broken.json: not valid JSON \(line 1"):
        load_playlist(broken, NAMES)


def test_player_jumps_to_the_first_step_then_flies_on_schedule():
    player = PlaylistPlayer(playlist())
    assert player.start(10.0) == [Move("blur", "tsne", 10.0, 0.0, "cubic-in-out", jump=True)]
    assert player.update(11.9) == []
    assert player.update(12.0) == [Move("blur", "grid", 12.0, 1.0, "cubic-in-out")]
    assert player.update(15.9) == []
    # a late frame still starts the fly at its scheduled time
    assert player.update(16.3) == [Move("combined", "grid", 16.0, 0.5, "linear")]
    # looping: back to the first step with its own fly time; several steps can fall into one long frame
    moves = player.update(16.75 + 4 + 2 + 1)
    assert moves == [Move("blur", "tsne", 16.75, 4.0, "cubic-in-out"),
                     Move("blur", "grid", 22.75, 1.0, "cubic-in-out")]


def test_schedule_does_not_depend_on_the_frame_rate():
    def starts(fps):
        player = PlaylistPlayer(playlist())
        moves = player.start(0.0)
        for frame in range(1, int(30 * fps)):
            moves += player.update(frame / fps)
        return [(m.layout, m.state, round(m.start, 9)) for m in moves]

    assert starts(7) == starts(30)
    # one cycle is 4 + 2 (blur t-SNE) + 1 + 3 (blur grid) + 0.5 + 0.25 (combined grid) = 10.75 s
    assert [start for _, _, start in starts(30)] == [0, 2, 6, 6.75, 12.75, 16.75, 17.5, 23.5, 27.5, 28.25]


def test_without_loop_the_player_stops_at_the_last_step():
    player = PlaylistPlayer(playlist(loop=False))
    player.start(0.0)
    assert [m.state for m in player.update(6.0)] == ["grid", "grid"]
    assert player.update(100.0) == []
    assert player.finished
    assert player.next(101.0) == [Move("blur", "tsne", 101.0, 4.0, "cubic-in-out")]
    assert not player.finished


def test_visitor_interrupt_holds_the_loop_until_idle_then_goes_on_with_the_next_step():
    player = PlaylistPlayer(playlist(), idle_seconds=30.0)
    player.start(0.0)
    player.interrupt(1.0)
    assert player.update(20.0) == []
    player.interrupt(20.0)                     # still interacting: the wait starts again
    assert player.update(49.9) == [] and player.waiting_for_idle
    assert player.update(50.0) == [Move("blur", "grid", 50.0, 1.0, "cubic-in-out")]
    assert not player.waiting_for_idle
    assert player.update(54.0) == [Move("combined", "grid", 54.0, 0.5, "linear")]


def test_pause_play_and_next():
    player = PlaylistPlayer(playlist())
    player.start(0.0)
    player.pause()
    assert player.update(1000.0) == []
    assert player.next(1000.0) == [Move("blur", "grid", 1000.0, 1.0, "cubic-in-out")]  # manual step while paused
    assert player.update(2000.0) == []
    assert player.play(2000.0) == [Move("combined", "grid", 2000.0, 0.5, "linear")]
    assert player.play(2000.1) == []           # already playing
    assert player.update(2000.75) == [Move("blur", "tsne", 2000.75, 4.0, "cubic-in-out")]
