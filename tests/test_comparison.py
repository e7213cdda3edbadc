"""The day model make bench compares strategies on (harness.comparison): each strategy starts
its runs when the thing it stands for would."""

from __future__ import annotations

import itertools

from harness import comparison
from harness.comparison import Loop, Measured, event_batched, looped, run_seconds, scheduled

ONE_FILE = run_seconds(1)
IDLE_RUN = run_seconds(0)


def test_a_schedule_starts_a_run_every_tick_and_none_while_a_run_goes() -> None:
    runs = scheduled([10.0, 20.0, 30.0], every=60)

    assert [run.start for run in runs[:3]] == [0, 120, 300], "the ticks at 60, 180 and 240 s fall in a run"
    assert [run.files for run in runs[:3]] == [[], [10.0, 20.0, 30.0], []]
    assert all(not run.files for run in runs[2:])


def test_an_event_trigger_fires_on_a_full_batch_or_at_the_end_of_its_window_and_after_a_run_that_goes() -> None:
    full = event_batched([0.0, 5.0, 9.0], batch_size=3, window=300)
    windowed = event_batched([0.0, 5.0], batch_size=3, window=300)
    behind = event_batched([0.0, 1.0], batch_size=1, window=1)

    assert [(run.start, run.files) for run in full] == [(9.0, [0.0, 5.0, 9.0])]
    assert [(run.start, run.files) for run in windowed] == [(300.0, [0.0, 5.0])]
    assert [(run.start, run.files) for run in behind] == [(0.0, [0.0]), (ONE_FILE, [1.0])]


def test_a_polling_loop_judges_a_run_at_the_first_poll_after_its_end_and_starts_the_next() -> None:
    runs, polls = looped([], Loop(poll_seconds=60))

    assert runs[1].start == 120, "a 90 s run is seen ended by the poll at 120 s"
    assert polls[0] == 2
    assert all(not run.files for run in runs)


def test_pacing_lengthens_the_wait_after_idle_runs_in_a_row() -> None:
    runs, _ = looped([], Loop(event_delay=0, pacing=(60, 2, 200)))

    starts = [run.start for run in runs[:5]]
    waits = [later - earlier - IDLE_RUN for earlier, later in itertools.pairwise(starts)]
    assert waits == [60, 120, 200, 200]


def test_waking_on_data_starts_no_run_before_data_lands_and_then_one_within_the_wake_delay() -> None:
    landed = 2000.0

    runs, _ = looped([landed], Loop(event_delay=0, pacing=(3600, 2, 21600), wake_delay=2))

    woken = next(run for run in runs if run.files)
    assert woken.start == landed + 2
    assert [run.start for run in runs if run.start < landed] == [0], "the first run only, then a wait for data"


def test_data_that_lands_while_a_run_goes_starts_the_next_run_at_once_when_waking_on_data() -> None:
    runs, _ = looped([30.0], Loop(event_delay=0.5, pacing=(3600, 2, 21600), wake_delay=2))

    assert runs[1].start == IDLE_RUN + 0.5
    assert runs[1].files == [30.0]


def test_every_strategy_takes_every_file_once_and_never_runs_two_at_once() -> None:
    arrivals = comparison.one_day_of_arrivals()
    measured = Measured(12, 3, 14, 3, 0.1, 1.5, 14)

    for outcome in comparison.strategies(arrivals, measured):
        taken = sorted(landed for run in outcome.runs for landed in run.files)
        assert taken == arrivals, outcome.strategy
        assert all(earlier.end <= later.start for earlier, later in itertools.pairwise(outcome.runs))
        assert min(outcome.freshness) >= ONE_FILE, outcome.strategy
