"""``Clock``: SimPy's environment with plain calls on its heap and an end-of-instant hook.
What the model relies on: SimPy's own semantics unchanged, and the hook's place in the order."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
import simpy
from simpy.core import EmptySchedule

from qsim.model import clock
from qsim.model.clock import DISPATCH, END, FAR_S, TIMER, Clock, SharedClock, at


def test_simpy_processes_timeouts_and_run_until_an_event_behave_as_in_simpy() -> None:
    seen: list[tuple[float, str]] = []

    def worker(env: simpy.Environment, done: simpy.Event) -> object:
        yield env.timeout(2)
        seen.append((env.now, "timeout"))
        value = yield env.process(child(env))
        seen.append((env.now, f"child gave {value}"))
        done.succeed("finished")

    def child(env: simpy.Environment) -> object:
        yield at(env, 3, TIMER)
        return 42

    env = Clock()
    done = env.event()
    env.process(worker(env, done))
    assert env.run(until=done) == "finished"
    assert seen == [(2, "timeout"), (5, "child gave 42")]


def test_a_failed_event_nobody_handles_crashes_the_run_as_in_simpy() -> None:
    env = Clock()
    env.event().fail(ValueError("boom"))
    with pytest.raises(ValueError, match="boom"):
        env.run()


def test_stepping_an_empty_clock_raises_simpys_empty_schedule() -> None:
    with pytest.raises(EmptySchedule):
        Clock().step()


def test_calls_at_one_instant_run_by_priority_then_insertion() -> None:
    env, order = Clock(), []
    for name, priority in (("submit-b", 11), ("end", END), ("submit-a", 10), ("timer", TIMER)):
        env.call(1.0, priority, order.append, name)
    env.call(1.0, END, order.append, "end-2")
    env.run()
    assert order == ["end", "end-2", "timer", "submit-a", "submit-b"]


def test_entries_come_out_by_time_then_priority_then_push_order_as_simpys() -> None:
    # A heap entry's key folds (priority, push order) into one int (HeapEntry): whatever the
    # interleaving of priorities and times, and with SimPy's own events at NORMAL (= END)
    # among the calls, the order is SimPy's (time, priority, insertion) order. Many entries
    # share each (time, priority), so a key whose push count reached into the priority's
    # bits, or a count per priority not shared by its callers, would reorder them.
    rng = random.Random(7)
    env, order, pushed = Clock(), [], []
    priorities = (-1, 0, END, TIMER, 9, 10, 11, 500, DISPATCH + 1)
    for index in range(3000):
        time, priority = float(rng.randrange(4)), rng.choice(priorities)
        pushed.append((time, priority, index))
        if priority == END and rng.random() < 0.5:
            event = env.event()
            event.callbacks.append(lambda _event, index=index: order.append(index))
            event._ok, event._value = True, None
            env.schedule(event, END, time)  # a SimPy event, as ``at`` and ``fire`` make
        else:
            env.call(time, priority, order.append, index)
    assert env.events_scheduled() == 3000
    env.run()
    assert order == [index for *_, index in sorted(pushed)]


def _calls_pushing_calls(seed: int) -> list[int]:
    """The order in which calls run when each may push more at times on a grid of 50 s (so
    many tie), up to 2,000 ahead: some near, some further than ``FAR_S``."""
    rng = random.Random(seed)
    env, order, made = Clock(), [], [0]
    priorities = (-1, END, TIMER, 10, 11)

    def push() -> None:
        made[0] += 1
        target = env.now + 50 * rng.randrange(41)  # env.now is on the grid too
        env.call(target - env.now, rng.choice(priorities), run, made[0])

    def run(index: int) -> None:
        order.append(index)
        for _ in range(rng.choice((0, 1, 2, 2)) if made[0] < 3000 else 0):
            push()

    for _ in range(20):
        push()
    env.run()
    assert len(order) == made[0] > 1000
    return order


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_far_calls_run_in_the_order_they_would_have_had_in_the_heap(
        seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Calls due more than FAR_S ahead wait in a second heap and move into the heap at their
    # time (Clock.far): the order is the one with every call in the heap (FAR_S infinite),
    # ties with near calls and earlier far calls pushed later included.
    with_far = _calls_pushing_calls(seed)
    monkeypatch.setattr(clock, "FAR_S", float("inf"))
    assert _calls_pushing_calls(seed) == with_far


def test_a_far_call_pushed_later_for_an_earlier_time_runs_at_its_time() -> None:
    env, seen = Clock(), []

    def record(name: str) -> None:
        seen.append((env.now, name))

    def tick(left: int) -> None:  # near calls all along: every FAR_S / 2
        record("tick")
        if left:
            env.call(FAR_S / 2, END, tick, left - 1)

    env.call(FAR_S / 2, END, tick, 5)
    env.call(3 * FAR_S, TIMER, record, "late")  # far
    env.call(1.0, END, lambda _: env.call(2 * FAR_S - 1.0, TIMER, record, "early"))  # far too
    env.call(2 * FAR_S + 1.0, END, lambda _: env.call(FAR_S - 1.0, END, record, "near"))
    env.run()
    f = FAR_S
    assert seen == [(f / 2, "tick"), (f, "tick"), (1.5 * f, "tick"), (2 * f, "tick"),
                    (2 * f, "early"), (2.5 * f, "tick"), (3 * f, "near"), (3 * f, "tick"),
                    (3 * f, "late")]


def test_far_calls_keep_one_entry_in_the_heap() -> None:
    # What far is for: however many calls wait there, the heap holds one entry for them,
    # each far call that comes first taking the place of the one before.
    env, order = Clock(), []
    for k in (5, 4, 3, 2, 1):
        env.call(2 * k * FAR_S, TIMER, order.append, k)
    assert (len(env.heap), len(env.far)) == (1, 5)
    env.run()
    assert order == [1, 2, 3, 4, 5]


def test_a_far_call_is_seen_and_revoked_like_any_other() -> None:
    env, order = Clock(), []
    record = order.append
    env.call(FAR_S + 1, TIMER, record, "far")
    env.call(FAR_S + 2, TIMER, record, "kept")
    assert env.scheduled(record) and not env.idle()
    entry = env.pending(record)
    assert entry is not None and entry[3] == "far"
    env.revoke(entry)
    env.run()
    assert order == ["kept"] and env.now == FAR_S + 2


def test_settle_runs_once_after_everything_of_the_instant_ranked_before_dispatch() -> None:
    env, order = Clock(), []

    def settle() -> None:
        order.append(f"settle@{env.now}")

    def ask(name: str) -> None:
        order.append(name)
        env.settle = settle  # asked twice in the instant: still one settle

    env.call(1.0, END, ask, "end")
    env.call(1.0, 10, ask, "submit")
    env.call(1.0, DISPATCH + 1, order.append, "after-dispatch")
    env.call(2.0, END, order.append, "next instant")
    env.run()
    assert order == ["end", "submit", "settle@1.0", "after-dispatch", "next instant"]


def test_a_shared_clock_settles_each_hook_that_asked_at_an_instant_once_in_rank_order() -> None:
    # SPEC §18: each backend of a fleet writes its own hook to the one slot; b's second ask
    # at 1.0 writes over a's, which still settles, first (its rank), and b only once.
    order: list[str] = []

    def hook(name: str) -> Callable[[], None]:
        return lambda: order.append(f"{name}@{env.now}")

    hooks = {"a": hook("a"), "b": hook("b")}
    env = SharedClock({hooks["a"]: 0, hooks["b"]: 1}.__getitem__)

    def ask(name: str) -> None:
        env.settle = hooks[name]

    env.call(1.0, END, ask, "b")
    env.call(1.0, 10, ask, "a")
    env.call(1.0, 11, ask, "b")
    env.call(2.0, END, ask, "b")
    env.run()
    assert order == ["a@1.0", "b@1.0", "b@2.0"]


def test_settle_runs_when_the_heap_is_empty() -> None:
    env, order = Clock(), []
    env.call(1.0, END, lambda _: setattr(env, "settle", lambda: order.append("settled")))
    env.run()
    assert order == ["settled"]


@pytest.mark.parametrize("environment", [simpy.Environment, Clock])
def test_run_until_a_time_stops_before_events_at_that_time_as_in_simpy(environment) -> None:
    env, seen = environment(), []

    def ticker(env: simpy.Environment) -> object:
        while True:
            yield env.timeout(1)
            seen.append(env.now)

    env.process(ticker(env))
    assert env.run(until=3) is None
    assert (env.now, seen) == (3, [1, 2])  # the tick at 3 is after the stop
    env.run(until=4.5)
    assert (env.now, seen) == (4.5, [1, 2, 3, 4])


@pytest.mark.parametrize("environment", [simpy.Environment, Clock])
def test_run_until_errors_and_returns_as_in_simpy(environment) -> None:
    env = environment()
    env.timeout(5)
    env.run(until=2)
    with pytest.raises(ValueError, match="must be greater than the current simulation time"):
        env.run(until=2)
    never = env.event()
    with pytest.raises(RuntimeError, match='"until" event was not triggered'):
        env.run(until=never)
    done = env.event()
    done.succeed("value")
    assert env.run(until=done) == "value"
    assert env.run(until=done) == "value"  # already processed: returns at once
    assert env.run() is None  # nothing left
