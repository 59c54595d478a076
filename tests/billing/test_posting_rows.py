"""The posting batch's row layouts agree with their names (charge_rows' typed tuples).

The hot rows are typed tuples read by position, so a field added to one list but not the
other would shift every value after it without a type error in the pipeline itself.
"""

from __future__ import annotations

from typing import get_args

from computeport.billing.charge_rows import (
    CHARGE_COLUMNS,
    JOURNAL_AT,
    ON_CAP_FULL_LIST,
    ON_CAP_KEY,
    USAGE_FIELDS,
    OnCap,
    UsageRow,
)
from computeport.billing.rating import OrderKey


def test_usage_row_has_a_name_per_field() -> None:
    assert len(get_args(UsageRow)) == len(USAGE_FIELDS)
    assert len(set(USAGE_FIELDS)) == len(USAGE_FIELDS)
    assert USAGE_FIELDS[0] == "id"  # the batch's first and last ids are read from it


def test_on_cap_indices_point_at_the_key_and_the_list_price() -> None:
    fields = get_args(OnCap)
    assert fields[ON_CAP_KEY] == OrderKey
    assert fields[ON_CAP_FULL_LIST] is int
    assert len(fields) == 11


def test_the_journal_id_is_stamped_into_its_own_column() -> None:
    assert CHARGE_COLUMNS[JOURNAL_AT] == "journal_id"
