"""One simulated day of data arriving, and when each way of running a Glue workflow would start
its runs: Glue's own SCHEDULED and EVENT triggers, AWS's published sample (a Step Functions loop
polling every 60 s) and this module's loop in its modes.

The day, the run times and the triggers' behaviour are a model (labelled so wherever they are
printed); the loop's per-run figures (state transitions of a run, of a poll and of a safety poll,
how soon an event or new data starts a run) come in as :class:`Measured`, measured by make bench
on the real state machines in the emulator.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

DAY = 24 * 3600
# A run's duration: a fixed start-up (a Glue job's provisioning and the crawlers) plus work per file.
RUN_STARTUP_SECONDS = 90
RUN_SECONDS_PER_FILE = 15


# pacing (initial_seconds, multiplier, max_seconds) of the row that wakes on data: with data's own
# events to wake it, the back-off is only a safety net for an event that never comes.
WAKE_PACING = (3600.0, 2.0, 21600.0)


def run_seconds(files: int) -> float:
    return RUN_STARTUP_SECONDS + RUN_SECONDS_PER_FILE * files


def one_day_of_arrivals(seed: int = 21) -> list[float]:
    """Landing times (seconds into the day) of the files of one modelled day: nothing from
    midnight to 07:00; from 07:00 to 19:00 a burst of 1 to 6 files within 3 minutes every 20 to 40
    minutes, but for a weekend-like gap with nothing from 12:30 to 16:00; from 19:00 a file about
    every hour."""
    rng = random.Random(seed)
    landings: list[float] = []
    clock = 7 * 3600.0
    while clock < 19 * 3600:
        if not 12.5 * 3600 <= clock < 16 * 3600:
            landings.extend(clock + rng.uniform(0, 180) for _ in range(rng.randint(1, 6)))
        clock += rng.uniform(20 * 60, 40 * 60)
    clock = 19 * 3600 + rng.uniform(0, 3600)
    while clock < DAY:
        landings.append(clock)
        clock += rng.uniform(40 * 60, 80 * 60)
    return sorted(landings)


@dataclass(frozen=True)
class Measured:
    """The loop's figures measured in the emulator by make bench."""

    poll_run_transitions: float  # a run in poll mode, besides its polls
    per_poll_transitions: float
    events_run_transitions: float  # a run in events mode, besides its safety polls
    per_safety_poll_transitions: float
    event_delay_seconds: float  # the run's last event to the next run's start
    wake_delay_seconds: float  # new data's event to the start of the run it wakes
    wake_run_transitions: float  # a run in events mode after an idle wait ended by data


@dataclass(frozen=True)
class Run:
    start: float
    end: float
    files: list[float] = field(default_factory=list)  # landing times of the files it took


@dataclass(frozen=True)
class Outcome:
    strategy: str
    runs: list[Run]
    transitions: float  # Step Functions state transitions over the day
    transitions_note: str = ""  # where they are not this module's own

    @property
    def freshness(self) -> list[float]:
        """For each file, seconds from its landing to the end of the run that took it."""
        return sorted(run.end - landed for run in self.runs for landed in run.files)

    @property
    def idle_runs(self) -> int:
        return sum(1 for run in self.runs if not run.files)


def _take(arrivals: Sequence[float], taken: int, start: float) -> tuple[list[float], int]:
    """The files landed by ``start`` that no run has taken yet, and how many are taken then."""
    upto = taken
    while upto < len(arrivals) and arrivals[upto] <= start:
        upto += 1
    return list(arrivals[taken:upto]), upto


def scheduled(arrivals: Sequence[float], every: float) -> list[Run]:
    """A SCHEDULED trigger: a run every ``every`` seconds; a tick while a run goes starts none
    (the workflow's MaxConcurrentRuns of 1 refuses it), and its files wait for the next tick."""
    runs: list[Run] = []
    taken = 0
    for tick in range(0, DAY, int(every)):
        if runs and runs[-1].end > tick:
            continue
        files, taken = _take(arrivals, taken, tick)
        runs.append(Run(tick, tick + run_seconds(len(files)), files))
    return runs


def event_batched(arrivals: Sequence[float], batch_size: int, window: float) -> list[Run]:
    """An EVENT trigger (EventBatchingCondition): a run once batch_size events have come or
    window seconds after the first of them; a batch complete while a run goes starts when it ends
    (how Glue treats a trigger firing at the concurrency limit is undocumented: the kinder case)."""
    runs: list[Run] = []
    taken = 0
    while taken < len(arrivals):
        first = arrivals[taken]
        fires = first + window
        if taken + batch_size - 1 < len(arrivals):
            fires = min(fires, arrivals[taken + batch_size - 1])
        start = max(fires, runs[-1].end if runs else 0.0)
        files, taken = _take(arrivals, taken, start)
        runs.append(Run(start, start + run_seconds(len(files)), files))
    return runs


@dataclass(frozen=True)
class Loop:
    """The loop's settings that shape a day: how it learns a run ended, and its pacing."""

    poll_seconds: float | None = None  # poll mode; None: events mode
    event_delay: float = 0.0
    pacing: tuple[float, float, float] | None = None  # initial_seconds, multiplier, max_seconds
    wake_delay: float | None = None  # wake_on_data: new data ends an idle wait this soon


def looped(arrivals: Sequence[float], loop: Loop) -> tuple[list[Run], list[int]]:
    """The loop's runs over the day, back to back, and the polls (or safety polls) of each."""
    runs: list[Run] = []
    polls: list[int] = []
    taken, idle_in_a_row, start = 0, 0, 0.0
    while start < DAY:
        files, taken = _take(arrivals, taken, start)
        end = start + run_seconds(len(files))
        if loop.poll_seconds is not None:
            count = math.ceil((end - start) / loop.poll_seconds)
            judged = start + count * loop.poll_seconds
        else:
            count = int((end - start) // 300)
            judged = end + loop.event_delay
        runs.append(Run(start, end, files))
        polls.append(count)
        idle_in_a_row = 0 if files else idle_in_a_row + 1
        start = judged
        # Pacing waits after idle runs; waking on data, after busy ones too (cooldown_seconds 0).
        if loop.pacing is None or (idle_in_a_row == 0 and loop.wake_delay is None):
            continue
        initial, multiplier, most = loop.pacing
        backoff = min(most, initial * multiplier ** max(0, idle_in_a_row - 1))
        if loop.wake_delay is None:
            start = judged + backoff
        elif not [landed for landed in arrivals[taken:] if landed <= judged]:
            woken = [landed + loop.wake_delay for landed in arrivals[taken:] if judged < landed < judged + backoff]
            start = woken[0] if woken else judged + backoff
    return runs, polls


def strategies(arrivals: Sequence[float], measured: Measured) -> list[Outcome]:
    """Every way compared, over the day."""
    none = "no state machine"
    outcomes = [
        Outcome("Glue SCHEDULED trigger, every 5 min", scheduled(arrivals, 300), 0, none),
        Outcome("Glue SCHEDULED trigger, every 15 min", scheduled(arrivals, 900), 0, none),
        Outcome("Glue EVENT trigger, batch of 10 or 300 s", event_batched(arrivals, 10, 300), 0, none),
        Outcome("Glue EVENT trigger, batch of 1", event_batched(arrivals, 1, 1), 0, none),
    ]
    poll = Loop(poll_seconds=60)
    for name, note in (
        ("AWS sample: poll every 60 s, no pacing", "counted as this module's poll mode"),
        ("this module, poll mode (60 s)", ""),
    ):
        runs, polls = looped(arrivals, poll)
        cost = len(runs) * measured.poll_run_transitions + sum(polls) * measured.per_poll_transitions
        outcomes.append(Outcome(name, runs, cost, note))
    events = Loop(event_delay=measured.event_delay_seconds)
    waking = Loop(event_delay=measured.event_delay_seconds, pacing=WAKE_PACING, wake_delay=measured.wake_delay_seconds)
    for name, loop, per_run in (
        ("this module, events mode", events, measured.events_run_transitions),
        ("this module, events + wake on data (pacing 1 h x2 to 6 h)", waking, measured.wake_run_transitions),
    ):
        runs, polls = looped(arrivals, loop)
        cost = len(runs) * per_run + sum(polls) * measured.per_safety_poll_transitions
        outcomes.append(Outcome(name, runs, cost))
    return outcomes


def percentile(values: Sequence[float], fraction: float) -> float:
    return sorted(values)[min(len(values) - 1, math.ceil(fraction * len(values)) - 1)]


HEADER = ("strategy", "freshness median", "p95", "worst", "runs", "found nothing", "state transitions")


def table_rows(outcomes: Sequence[Outcome]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = [HEADER]
    for outcome in outcomes:
        fresh = outcome.freshness
        rows.append(
            (
                outcome.strategy,
                f"{statistics.median(fresh) / 60:.1f} min",
                f"{percentile(fresh, 0.95) / 60:.1f} min",
                f"{max(fresh) / 60:.1f} min",
                f"{len(outcome.runs):,}",
                f"{outcome.idle_runs:,}",
                f"{outcome.transitions:,.0f}" + (f" ({outcome.transitions_note})" if outcome.transitions_note else ""),
            )
        )
    return rows


def plot(outcomes: Sequence[Outcome], path: str) -> None:
    """Freshness (median, with the p95 above it) against runs started, a point per strategy, as SVG."""
    import matplotlib

    matplotlib.use("svg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams["svg.hashsalt"] = "glue-workflow-loop"  # the same SVG for the same figures
    figure, axes = plt.subplots(figsize=(9, 5.5))
    markers = "osD^v<>ph*"
    for index, outcome in enumerate(outcomes):
        fresh = outcome.freshness
        median, p95 = statistics.median(fresh) / 60, percentile(fresh, 0.95) / 60
        axes.errorbar(
            len(outcome.runs),
            median,
            yerr=[[0.0], [p95 - median]],
            fmt=markers[index % len(markers)],
            capsize=3,
            label=f"{outcome.strategy} ({len(outcome.runs)} runs, {median:.1f} min)",
        )
    axes.legend(fontsize=7, loc="upper right")
    axes.set_xscale("log")
    axes.set_xlabel("Glue runs started in the day (log scale)")
    axes.set_ylabel("minutes from a file landing to its run's end (median; bar to p95)")
    axes.set_title("One modelled day: fresher data for fewer runs is down and to the left")
    axes.grid(True, alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, metadata={"Date": None})
    plt.close(figure)
