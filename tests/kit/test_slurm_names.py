"""The one generator of Slurm-facing names: Slurm's rules, never a timestamp, always unique."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from computeport.kit.ids import uuid7
from computeport.kit.slurm_names import (
    MAX_GENERATED,
    SLURM_NAME_RE,
    NameSpaceExhausted,
    award_account_name,
    numbered,
    organisation_account_name,
    unique_name,
)


@settings(deadline=None)  # a loaded CI machine must not turn a slow example into a failure
@given(st.text(max_size=300))
def test_any_organisation_name_gives_a_name_slurm_keeps_as_is(name: str) -> None:
    generated = organisation_account_name(name)
    assert SLURM_NAME_RE.match(generated)
    assert len(generated) <= MAX_GENERATED
    assert generated == generated.lower()  # what sacctmgr shows back compares equal


@settings(deadline=None)  # a loaded CI machine must not turn a slow example into a failure
@given(st.text(max_size=300))
def test_any_reference_gives_a_valid_award_account(reference: str) -> None:
    for n in (1, 2, 50):
        name = numbered(award_account_name(reference), n)
        assert SLURM_NAME_RE.match(name)
        assert len(name) <= MAX_GENERATED


def test_the_rule_reads_well_and_never_uses_the_id() -> None:
    assert organisation_account_name("Harbourview Generative AI R&D Centre", "3f9a1c") == (
        "org_harbourview_generati_3f9a1c"
    )
    assert organisation_account_name("香港", "00aa11") == "org_00aa11"
    assert award_account_name("AISS-2026-0042") == "aiss_2026_0042"
    assert award_account_name("2026/7") == "a_2026_7"
    org_id = uuid7()
    assert org_id.hex[:12] not in organisation_account_name("Same Name")


def test_same_names_at_the_same_instant_still_differ() -> None:
    names = {organisation_account_name("Acme") for _ in range(200)}
    assert len(names) == 200


def test_unique_name_skips_taken_names_and_gives_up_loudly() -> None:
    taken = {"aiss_1", "aiss_1_2"}
    assert unique_name(lambda n: numbered("aiss_1", n), taken.__contains__) == "aiss_1_3"
    with pytest.raises(NameSpaceExhausted):
        unique_name(lambda n: "aiss_1", lambda _name: True)
    with pytest.raises(ValueError, match="breaks Slurm's rules"):
        unique_name(lambda n: "Bad-Name", lambda _name: False)
