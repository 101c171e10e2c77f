"""The restore drill's verdict: any table whose count or checksum differs from the mark."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "ops"))
import restore_drill

MARK = {"appointments_appointment": [3, "a1"], "audit_auditevent": [9, "b2"]}


def test_an_identical_copy_has_no_differences():
    assert restore_drill.compare(MARK, dict(MARK)) == []


def test_a_lost_row_a_changed_row_or_a_missing_table_is_a_difference():
    lost = MARK | {"appointments_appointment": [2, "a0"]}
    changed = MARK | {"audit_auditevent": [9, "zz"]}
    missing = {"audit_auditevent": [9, "b2"]}
    assert restore_drill.compare(MARK, lost)[0].startswith("appointments_appointment")
    assert restore_drill.compare(MARK, changed)[0].startswith("audit_auditevent")
    assert restore_drill.compare(MARK, missing) == [
        "appointments_appointment: expected [3, 'a1'], found None"
    ]
