"""SimConfig: presets, validation (errors name the field), serialisation."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest

from communitok.core.errors import InputError
from communitok.simulate import PRESETS, SimConfig


def test_presets_are_valid_and_ordered() -> None:
    sizes = [SimConfig.preset(name, seed=1) for name in ("tiny", "small", "medium", "large")]
    assert [c.preset_name for c in sizes] == ["tiny", "small", "medium", "large"]
    for a, b in itertools.pairwise(sizes):
        assert a.n_events < b.n_events and a.n_viewers < b.n_viewers
    large = SimConfig.preset("large")
    assert large.n_viewers == 1_000_000 and large.n_events == 10_000_000
    assert set(PRESETS) == {"tiny", "small", "medium", "large"}


def test_preset_overrides_and_default_is_tiny() -> None:
    cfg = SimConfig.preset("small", seed=3, days=10, toxic_rate=0.1)
    assert (cfg.seed, cfg.days, cfg.toxic_rate, cfg.n_viewers) == (3, 10, 0.1, 10_000)
    assert SimConfig().n_events == PRESETS["tiny"]["n_events"]


def test_unknown_preset() -> None:
    with pytest.raises(InputError) as e:
        SimConfig.preset("huge")
    assert e.value.field == "size"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"n_viewers": 0}, "n_viewers"),
        ({"n_events": 0}, "n_events"),
        ({"toxic_rate": 1.5}, "toxic_rate"),
        ({"lingo_rate": -0.1}, "lingo_rate"),
        ({"days": 1}, "days"),
        ({"seed": -1}, "seed"),
        ({"seed": "7"}, "seed"),
        ({"n_creators": True}, "n_creators"),
        ({"start": datetime(2024, 1, 1)}, "start"),
        ({"start": "2024-01-01"}, "start"),
        ({"toxic_mix": (0.5, 0.5, 0.5)}, "toxic_mix"),
        ({"pod_size": (5, 2)}, "pod_size"),
        ({"n_communities": 3}, "n_communities"),
        ({"n_videos": 10}, "n_videos"),
        ({"n_pods": 30}, "n_pods"),
        ({"evolution": "yes"}, "evolution"),
        ({"campaign_lift": 5.0}, "campaign_lift"),
        ({"chunk_size": 10}, "chunk_size"),
        ({"n_bridges": 99}, "n_bridges"),
    ],
)
def test_invalid_parameters_name_the_field(changes: dict, field: str) -> None:
    with pytest.raises(InputError) as e:
        SimConfig.preset("tiny", **changes)
    assert e.value.field == field
    assert field in str(e.value)


def test_without_evolution_two_communities_suffice() -> None:
    cfg = SimConfig.preset("tiny", n_communities=2, evolution=False, n_bridges=0)
    assert cfg.n_communities == 2


def test_start_is_converted_to_utc() -> None:
    cfg = SimConfig(start=datetime(2024, 3, 1, 2, 0, tzinfo=timezone(timedelta(hours=2))))
    assert cfg.start == datetime(2024, 3, 1, tzinfo=UTC)
    assert cfg.start.tzinfo is UTC
    assert cfg.end_us - cfg.start_us == cfg.days * 86_400 * 1_000_000


def test_dict_round_trip_and_unknown_keys() -> None:
    cfg = SimConfig.preset("small", seed=9, toxic_mix=(0.2, 0.3, 0.5))
    d = cfg.to_dict()
    assert d["start"] == "2024-01-01T00:00:00Z"
    assert SimConfig.from_dict(d) == cfg
    with pytest.raises(InputError) as e:
        SimConfig.from_dict({**d, "bogus": 1})
    assert e.value.field == "bogus"


def test_with_validates() -> None:
    cfg = SimConfig()
    assert cfg.with_(seed=5).seed == 5
    with pytest.raises(InputError):
        cfg.with_(days=0)
