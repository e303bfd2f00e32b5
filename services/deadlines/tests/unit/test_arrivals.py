"""A run of submissions folds into one row per obligation, the row that recording them one by one leaves."""

from __future__ import annotations

from deadlines.domain.arrivals import Arrived, fold, split_first
from services.deadlines.tests.unit.fakes import DUE, JUNE, hai_duong, submission, vn


def test_a_run_folds_to_one_row_per_obligation_in_the_order_of_their_first_submissions():
    run = [
        submission("CA", vn(17), version=2, first=vn(12)),  # an amendment before its first version
        submission("BTG", vn(14)),
        submission("CA", vn(12)),
        submission("CA", vn(18), version=3, first=vn(12)).model_copy(update={"after_close": True}),
    ]
    ca, btg = fold(run)
    assert (ca.unit, btg) == ("CA", Arrived.of(run[1]))
    assert (ca.first_submitted_at, ca.last_version, ca.last_received_at) == (vn(12), 3, vn(18))
    assert ca.after_close and ca.amended_at == vn(18), "the latest amendment's time, and any after-close flag"
    assert Arrived.of(run[2]).amended_at is None, "a first version is no amendment"
    first, rest = split_first(run)
    assert (first, rest) == ([run[0], run[1]], [run[2], run[3]])


async def test_folding_a_run_records_what_recording_it_one_by_one_records():
    """The fold against the fake's rule of recording one submission (the SQL's is compared on PostgreSQL in
    tests/integration/test_submission_batches.py)."""
    run = [
        submission("CA", vn(12)),
        submission("CA", vn(16, 1), version=2, first=vn(12)),  # at or after the deadline
        submission("CA", vn(15), version=3, first=vn(12)),  # a later version, received earlier
        submission("BTG", vn(13), version=2, first=vn(11)),
    ]
    one_by_one, _ = await hai_duong(["CA", "BTG"])
    one_by_one.obligations.rows.clear()
    for s in run:
        await one_by_one.obligations.record(s)
    by_unit = {a.unit: a for a in fold(run)}
    for unit, row in {r.unit: r for r in one_by_one.obligations.rows.values()}.items():
        a = by_unit[unit]
        assert (row.first_submitted_at, row.last_version, row.last_received_at, row.after_close) == (
            a.first_submitted_at, a.last_version, a.last_received_at, a.after_close,
        )  # fmt: skip
        assert row.submission_id == a.submission_id
    assert by_unit["CA"].amended_at >= DUE and by_unit["BTG"].amended_at < DUE
    assert {a.period for a in by_unit.values()} == {JUNE}
