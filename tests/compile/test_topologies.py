"""Slice names -> libtpu topologies, and the loop/collective accounting of compiled HLO text (no libtpu needed)."""

import pytest

from personalize.compile.hlo import collective_bytes, loop_trip_counts, multiplicities
from personalize.compile.topologies import parse_slice


@pytest.mark.parametrize("name, topology, chips", [
    ("v4-8", "v4:2x2x1", 4),
    ("v4-128", "v4:4x4x4", 64),
    ("v4-256", "v4:4x4x8", 128),
    ("v4-4096", "v4:8x16x16", 2048),
    ("v5p-128", "v5p:4x4x4", 64),
    ("v5e-4", "v5e:2x2", 4),
    ("v5e-256", "v5e:16x16", 256),
    ("v6e-64", "v6e:8x8", 64),
])
def test_slice_names_count_cores_on_v4_and_v5p_and_chips_on_v5e_and_v6e(name, topology, chips):
    tpu_slice = parse_slice(name)
    assert (tpu_slice.topology_name, tpu_slice.chips) == (topology, chips)


@pytest.mark.parametrize("name", ["v4-12", "v5e-512", "v3-8", "v4_128", "v6e-2"])
def test_a_slice_that_does_not_exist_is_refused_with_the_sizes_that_do(name):
    with pytest.raises(ValueError, match="--topology"):
        parse_slice(name)


HLO = """HloModule jit_step, is_scheduled=true

%body.1 (p: (s32[], f32[8])) -> (s32[], f32[8]) {
  %ar = f32[8]{0} all-reduce(f32[8]{0} %x), replica_groups={}, to_apply=%add.1
  %ag-done = bf16[4,16]{1,0} all-gather-done((bf16[4,4]{1,0}, bf16[4,16]{1,0}) %ag-start)
}

%cond.1 (p: (s32[], f32[8])) -> pred[] {
  ROOT %lt = pred[] compare(s32[] %i, s32[] %n), direction=LT
}

ENTRY %main.1 (a: f32[8]) -> f32[8] {
  %w = (s32[], f32[8]) while((s32[], f32[8]) %t), condition=%cond.1, body=%body.1, backend_config={"known_trip_count":{"n":"16"}}
  %rs = f32[2]{0} reduce-scatter(f32[8]{0} %y), dimensions={0}
}
"""


def test_a_loop_body_runs_trip_count_times_and_its_collectives_count_that_often():
    assert loop_trip_counts(HLO) == [16]
    assert multiplicities(HLO)["body.1"] == 16
    assert collective_bytes(HLO) == {"all-reduce": 8 * 4 * 16, "all-gather": 4 * 16 * 2 * 16, "reduce-scatter": 2 * 4}
