"""Device-fault debouncing: one ticket per fault, opened after N failures, closed on recovery."""

from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain.fault_tracker import CloseTicket, FaultRule, FaultTracker, OpenTicket


def test_opens_after_three_consecutive_failures_and_closes_on_recovery():
    tracker = FaultTracker(default_rule=FaultRule(threshold=3))
    assert tracker.observe("printer.paper_end", True, 0.0, "缺纸") is None
    assert tracker.observe("printer.paper_end", True, 1.0) is None
    decision = tracker.observe("printer.paper_end", True, 2.0)
    assert decision == OpenTicket("printer.paper_end", "缺纸", 0.0)
    tracker.confirm_open("printer.paper_end", "T-1")
    for t in range(3, 50):
        assert tracker.observe("printer.paper_end", True, float(t)) is None
    assert tracker.observe("printer.paper_end", False, 50.0) == CloseTicket(
        "printer.paper_end", "T-1"
    )
    assert tracker.observe("printer.paper_end", False, 51.0) is None
    tracker.confirm_closed("printer.paper_end")
    assert tracker.open_faults() == {}


def test_intermittent_failures_below_threshold_open_nothing():
    tracker = FaultTracker(default_rule=FaultRule(threshold=3))
    for t in range(100):
        assert tracker.observe("idcard.read_failed", t % 3 != 2, float(t)) is None


def test_time_based_rule_waits_for_the_duration():
    tracker = FaultTracker(rules={"backend": FaultRule(threshold=1, min_duration=300)})
    assert tracker.observe("backend.unreachable", True, 0.0) is None
    assert tracker.observe("backend.unreachable", True, 299.0) is None
    assert isinstance(tracker.observe("backend.unreachable", True, 300.0), OpenTicket)


def test_unconfirmed_open_is_not_repeated_and_abandon_allows_retry():
    tracker = FaultTracker(default_rule=FaultRule(threshold=1))
    assert isinstance(tracker.observe("scanner.offline", True, 0.0), OpenTicket)
    assert tracker.observe("scanner.offline", True, 1.0) is None
    tracker.abandon_open("scanner.offline")
    assert isinstance(tracker.observe("scanner.offline", True, 2.0), OpenTicket)


def test_restored_state_does_not_open_a_duplicate_after_restart():
    before = FaultTracker(default_rule=FaultRule(threshold=1))
    before.observe("printer.cover_open", True, 0.0)
    before.confirm_open("printer.cover_open", "T-9")
    after = FaultTracker(default_rule=FaultRule(threshold=1))
    after.restore(before.snapshot())
    assert after.observe("printer.cover_open", True, 10.0) is None
    assert after.observe("printer.cover_open", False, 11.0) == CloseTicket(
        "printer.cover_open", "T-9"
    )


@given(st.lists(st.booleans(), max_size=200), st.integers(min_value=1, max_value=5))
def test_never_two_open_tickets_for_one_fault(observations, threshold):
    """GIVEN any sequence of observations WHEN decisions are confirmed at once
    THEN opens and closes alternate, and each open follows `threshold` failures in a row."""
    tracker = FaultTracker(default_rule=FaultRule(threshold=threshold))
    open_now = False
    run = 0
    for i, failing in enumerate(observations):
        run = run + 1 if failing else 0
        decision = tracker.observe("k", failing, float(i))
        if isinstance(decision, OpenTicket):
            assert not open_now
            assert run >= threshold
            tracker.confirm_open("k", f"T{i}")
            open_now = True
        elif isinstance(decision, CloseTicket):
            assert open_now and not failing
            tracker.confirm_closed("k")
            open_now = False
        else:
            assert decision is None
    assert (tracker.open_faults() != {}) == open_now


def test_abandoned_close_is_retried_on_the_next_healthy_observation():
    tracker = FaultTracker(default_rule=FaultRule(threshold=1))
    tracker.observe("printer.paper_end", True, 0.0)
    tracker.confirm_open("printer.paper_end", "T-3")
    assert isinstance(tracker.observe("printer.paper_end", False, 1.0), CloseTicket)
    assert tracker.observe("printer.paper_end", False, 2.0) is None
    tracker.abandon_close("printer.paper_end")
    assert tracker.observe("printer.paper_end", False, 3.0) == CloseTicket(
        "printer.paper_end", "T-3"
    )
