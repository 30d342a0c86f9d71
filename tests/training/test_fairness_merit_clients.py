"""The audit's count of the clients who carry a group's merit (Kish's effective number)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.factories import fairness_pools as pools
from training.fairness import audit_ranking


def test_merit_resting_on_one_client_has_an_effective_count_near_one() -> None:
    data, groups = pools()
    rng = np.random.default_rng(4)
    a = groups["groep"] == "a"
    merit = a & (rng.random(len(data)) < 0.3)  # spread over group a's ~200 clients
    b_clients = np.unique(data.client_ids[groups["groep"] == "b"])
    carrier, others = b_clients[0], b_clients[1:4]
    merit |= data.client_ids == carrier  # one b client merits every place they are in …
    for client in others:  # … and three more merit one place each
        merit[np.flatnonzero(data.client_ids == client)[0]] = True
    found = audit_ranking(data, rng.random(len(data)), groups, merit=merit)["attributes"]["groep"]["groups"]
    carried = int(np.sum(data.client_ids == carrier))
    assert found["b"]["meritClients"] == 4
    assert found["b"]["effectiveMeritClients"] == pytest.approx((carried + 3) ** 2 / (carried**2 + 3), abs=0.05)
    assert found["b"]["effectiveMeritClients"] < 2.5  # four clients, effectively under two and a half
    assert found["a"]["meritClients"] > 150 and found["a"]["effectiveMeritClients"] > 100
    assert found["klein"]["meritClients"] == 0 and found["klein"]["effectiveMeritClients"] == 0.0
