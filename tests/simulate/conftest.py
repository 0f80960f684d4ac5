"""Shared simulator fixtures: one tiny platform per session (it takes well under a second)."""

from __future__ import annotations

import pytest

from communitok.simulate import SimConfig, SimResult, simulate


@pytest.fixture(scope="session")
def tiny_config() -> SimConfig:
    return SimConfig.preset("tiny", seed=7)


@pytest.fixture(scope="session")
def tiny(tiny_config: SimConfig) -> SimResult:
    return simulate(tiny_config)


@pytest.fixture(scope="session")
def rich() -> SimResult:
    """A larger tiny-shaped platform where statistical properties are sharp (~1 s)."""
    return simulate(
        SimConfig.preset(
            "tiny",
            seed=11,
            n_viewers=2_000,
            n_videos=3_000,
            n_events=120_000,
            n_comments=6_000,
            cocreation_rate=0.35,
            campaign_lift=1.0,
            toxic_rate=0.2,
        )
    )
