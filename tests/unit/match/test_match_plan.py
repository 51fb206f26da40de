"""Buddying plan: optimality against brute force, MIP cross-check, reasons and input errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from partnering.errors import InfeasibleError, ValidationError
from partnering.match.plan import buddying_plan, plan_mip_highs

pytestmark = pytest.mark.unit


def _random_instance(rng: np.random.Generator) -> dict:
    n_r, n_s = int(rng.integers(1, 7)), int(rng.integers(1, 6))
    recs = [f"R{i}" for i in range(n_r)]
    sups = [f"S{j}" for j in range(n_s)]
    rows = [(r, s) for r in recs for s in sups if rng.random() < 0.7]
    if not rows:
        rows = [(recs[0], sups[0])]
    suit = pd.DataFrame(rows, columns=["recipient", "supporter"])
    # integer scores make ties common, which tests the tie-handling of both objective terms
    suit["score"] = rng.integers(1, 12, len(suit)).astype(float)
    suit["travel_minutes"] = rng.integers(5, 90, len(suit)).astype(float)
    if rng.random() < 0.5:
        capacity: int | dict[str, int] = int(rng.integers(1, 3))
    else:
        capacity = {s: int(rng.integers(1, 3)) for s in sups}
    max_travel = 60.0 if rng.random() < 0.5 else None
    difficulty = {s for s in sups if rng.random() < 0.15}
    forbidden = [tuple(x) for x in suit[["recipient", "supporter"]].to_numpy() if rng.random() < 0.15]
    allowed = _allowed(suit, max_travel, difficulty, forbidden)
    required = []
    if allowed and rng.random() < 0.5:
        required = [allowed[int(rng.integers(len(allowed)))][:2]]
    return {
        "suitability": suit,
        "capacity": capacity,
        "required": required,
        "forbidden": forbidden,
        "supporters_in_difficulty": difficulty,
        "max_travel_minutes": max_travel,
    }


def _allowed(suit, max_travel, difficulty, forbidden):
    out = []
    forb = set(forbidden)
    for r, s, sc, t in suit[["recipient", "supporter", "score", "travel_minutes"]].itertuples(index=False):
        if (max_travel is not None and t > max_travel) or s in difficulty or (r, s) in forb:
            continue
        out.append((r, s, sc))
    return out


def _brute_force(inst: dict) -> tuple[int, float]:
    """Enumerate every assignment (each recipient: one allowed supporter or none). Returns best (count, score)."""
    suit = inst["suitability"]
    allowed = _allowed(suit, inst["max_travel_minutes"], inst["supporters_in_difficulty"], inst["forbidden"])
    recs = sorted(suit["recipient"].unique())
    sups = sorted(suit["supporter"].unique())
    cap = inst["capacity"]
    caps = np.array([cap if isinstance(cap, int) else cap.get(s, 1) for s in sups])
    options = []
    for r in recs:
        opts = [(-1, 0.0)] + [(sups.index(s), sc) for rr, s, sc in allowed if rr == r]
        req = [s for rr, s in inst["required"] if rr == r]
        if req:
            opts = [(sups.index(req[0]), sc) for rr, s, sc in allowed if rr == r and s == req[0]]
        options.append(opts)
    grids = np.meshgrid(*[np.arange(len(o)) for o in options], indexing="ij")
    choice = np.stack([g.ravel() for g in grids], axis=1)  # every combination
    sup_of = np.stack([np.array([o[0] for o in opts])[choice[:, i]] for i, opts in enumerate(options)], axis=1)
    score = sum(np.array([o[1] for o in opts])[choice[:, i]] for i, opts in enumerate(options))
    ok = np.ones(len(choice), dtype=bool)
    for j in range(len(sups)):
        ok &= (sup_of == j).sum(axis=1) <= caps[j]
    count = (sup_of >= 0).sum(axis=1)
    best_count = count[ok].max()
    best_score = score[ok & (count == best_count)].max()
    return int(best_count), float(best_score)


def _check_feasible(plan, inst) -> None:
    pairs = plan.pairs
    allowed = {
        (r, s)
        for r, s, _ in _allowed(
            inst["suitability"], inst["max_travel_minutes"], inst["supporters_in_difficulty"], inst["forbidden"]
        )
    }
    assert set(zip(pairs.recipient, pairs.supporter, strict=True)) <= allowed
    assert not pairs.recipient.duplicated().any()
    cap = inst["capacity"]
    for s, n in pairs.supporter.value_counts().items():
        assert n <= (cap if isinstance(cap, int) else cap.get(s, 1))
    for r, s in inst["required"]:
        assert ((pairs.recipient == r) & (pairs.supporter == s)).any()
    assert set(plan.unmatched.recipient).isdisjoint(pairs.recipient)
    assert len(plan.unmatched) + len(pairs) == inst["suitability"].recipient.nunique()


def test_assignment_matches_brute_force_on_many_small_instances():
    rng = np.random.default_rng(20261122)
    seen = {"required": 0, "unmatched": 0, "at capacity": 0, "beaten by count": 0, "travel limit": 0}
    for _ in range(300):
        inst = _random_instance(rng)
        count, score = _brute_force(inst)
        plan = buddying_plan(**inst)
        _check_feasible(plan, inst)
        assert plan.n_lead == count
        assert plan.lead_score == pytest.approx(score, abs=1e-9)
        # what this instance exercised: the comparison above is only worth as much as the cases it covers
        cap = inst["capacity"]
        load = plan.pairs["supporter"].value_counts()
        seen["required"] += bool(inst["required"])
        seen["unmatched"] += bool(len(plan.unmatched))
        seen["at capacity"] += any(n == (cap if isinstance(cap, int) else cap.get(s, 1)) for s, n in load.items())
        seen["travel limit"] += inst["max_travel_minutes"] is not None and bool(
            (inst["suitability"]["travel_minutes"] > inst["max_travel_minutes"]).any())
        best_each = inst["suitability"].groupby("recipient")["score"].max()
        seen["beaten by count"] += plan.lead_score < best_each.reindex(plan.pairs["recipient"]).sum() - 1e-9
    assert seen["required"] >= 60 and seen["unmatched"] >= 60 and seen["at capacity"] >= 150
    assert seen["travel limit"] >= 60 and seen["beaten by count"] >= 30, seen


def test_mip_matches_brute_force_on_small_instances():
    rng = np.random.default_rng(7)
    for _ in range(60):
        inst = _random_instance(rng)
        count, score = _brute_force(inst)
        plan = plan_mip_highs(**inst)
        _check_feasible(plan, inst)
        assert plan.proven_optimal
        assert (plan.n_lead, plan.lead_score) == (count, pytest.approx(score, abs=1e-6))


def _medium(seed: int, n_r: int = 300, n_s: int = 200):
    rng = np.random.default_rng(seed)
    rp = rng.uniform(0, 100, (n_r, 2))
    sp = rng.uniform(0, 100, (n_s, 2))
    d = np.hypot(rp[:, None, 0] - sp[None, :, 0], rp[:, None, 1] - sp[None, :, 1])
    i, j = np.nonzero(d < 15)
    return pd.DataFrame(
        {
            "recipient": [f"R{x}" for x in i],
            "supporter": [f"S{x}" for x in j],
            "score": 100.0 / (1 + d[i, j]) * rng.uniform(0.5, 1.5, len(i)),
            "travel_minutes": d[i, j] * 1.5,
        }
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_assignment_and_mip_agree_on_medium_instances(seed):
    suit = _medium(seed)
    forbidden = [tuple(x) for x in suit.sample(20, random_state=seed)[["recipient", "supporter"]].to_numpy()]
    kw = {
        "capacity": 2,
        "forbidden": forbidden,
        "supporters_in_difficulty": {"S1", "S2", "S3"},
        "max_travel_minutes": 18,
    }
    a = buddying_plan(suit, **kw)
    m = plan_mip_highs(suit, **kw)
    assert a.n_lead == m.n_lead
    assert a.lead_score == pytest.approx(m.lead_score, rel=1e-9)
    assert m.proven_optimal
    assert set(a.unmatched.recipient) <= set(suit.recipient)
    assert len(a.unmatched) == suit.recipient.nunique() - a.n_lead


def test_more_matches_beat_higher_score():
    # S1 could give A 100, but then B has nobody: two matches (A-S2, B-S1) must win over one big one.
    suit = pd.DataFrame({"recipient": ["A", "A", "B"], "supporter": ["S1", "S2", "S1"], "score": [100.0, 1.0, 1.0]})
    plan = buddying_plan(suit)
    assert plan.n_lead == 2 and plan.total_score == 2.0
    assert set(zip(plan.pairs.recipient, plan.pairs.supporter, strict=True)) == {("A", "S2"), ("B", "S1")}


def test_unmatched_reasons_name_the_binding_constraint():
    suit = pd.DataFrame(
        {
            "recipient": ["far", "sick", "forb", "cap", "cap2", "req", "S9"],
            "supporter": ["S1", "S2", "S3", "S4", "S4", "S5", "S6"],
            "score": [1.0, 1.0, 1.0, 1.0, 5.0, 1.0, 1.0],
            "travel_minutes": [75.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0],
        }
    )
    # "req2" has only S5, whose single slot is taken by a required pair for "req"
    suit = pd.concat(
        [suit, pd.DataFrame({"recipient": ["req2"], "supporter": ["S5"], "score": [9.0], "travel_minutes": [5.0]})],
        ignore_index=True,
    )
    plan = buddying_plan(
        suit,
        capacity=1,
        required=[("req", "S5")],
        forbidden=[("forb", "S3")],
        supporters_in_difficulty={"S2"},
        max_travel_minutes=60,
        recipients=["nobody"],
    )
    why = dict(zip(plan.unmatched.recipient, plan.unmatched.reason, strict=True))
    assert why["far"] == "no supporter within 60 minutes"
    assert why["sick"] == "all candidates within reach are themselves in difficulty"
    assert why["forb"] == "forbidden pairs exclude every candidate"
    assert why["cap"].startswith("every candidate within reach is at capacity supporting others (k=1)")
    assert "S4 supports cap2" in why["cap"]
    assert why["req2"].startswith("required pairs use all the capacity of every candidate")
    assert "S5 (required for req)" in why["req2"]
    assert why["nobody"] == "no candidate supporter listed"
    assert set(plan.pairs.recipient) == {"cap2", "req", "S9"}
    assert plan.pairs.set_index("recipient").loc["req", "required"]


def test_invalid_required_pairs_raise_named_errors():
    suit = pd.DataFrame({"recipient": ["A", "B", "C"], "supporter": ["S1", "S1", "S1"], "score": [1.0, 2.0, 3.0]})
    with pytest.raises(ValidationError, match=r"required pair \(A, S1\) is also forbidden"):
        buddying_plan(suit, required=[("A", "S1")], forbidden=[("A", "S1")])
    with pytest.raises(ValidationError, match="S1 is itself in difficulty"):
        buddying_plan(suit, required=[("A", "S1")], supporters_in_difficulty={"S1"})
    with pytest.raises(InfeasibleError, match=r"S1 is required for 2 recipients \(A, B\) but has capacity 1"):
        buddying_plan(suit, required=[("A", "S1"), ("B", "S1")])
    with pytest.raises(ValidationError, match="not among the allowed pairs"):
        buddying_plan(suit, required=[("A", "S2")])
    with pytest.raises(ValidationError, match="more than one required lead"):
        buddying_plan(suit, capacity=3, required=[("A", "S1"), ("A", "S2")])
    with pytest.raises(ValidationError, match="scores must be finite and > 0"):
        buddying_plan(suit.assign(score=[1.0, 0.0, 2.0]))
    with pytest.raises(ValidationError, match="lists a pair twice"):
        buddying_plan(pd.concat([suit, suit.head(1)]))
    with pytest.raises(InfeasibleError, match="over the limit of 30 minutes"):
        buddying_plan(suit.assign(travel_minutes=[40.0, 1.0, 1.0]), required=[("A", "S1")], max_travel_minutes=30)


def test_second_partner_of_another_kind_is_its_own_exact_assignment():
    lead = pd.DataFrame({"recipient": ["A", "B"], "supporter": ["S1", "S2"], "score": [5.0, 4.0]})
    tech = pd.DataFrame(
        {
            "recipient": ["A", "A", "B", "B"],
            "supporter": ["T1", "S1", "T1", "T2"],
            "score": [3.0, 9.0, 2.0, 1.0],
            "note": ["t", "t", "t", "t"],
        }
    )
    plan = buddying_plan(lead, second_kind_suitability=tech, second_capacity=1)
    second = plan.pairs[plan.pairs.role == "second"].set_index("recipient")["supporter"].to_dict()
    assert second == {"A": "T1", "B": "T2"}  # S1 is already A's lead; T1 can take one only
    assert plan.total_score == pytest.approx(5 + 4 + 3 + 1)
    assert plan.lead_score == 9.0 and plan.n_lead == 2
    assert "note" in plan.pairs.columns
    mip = plan_mip_highs(lead, second_kind_suitability=tech, second_capacity=1)
    assert mip.total_score == pytest.approx(plan.total_score)


def test_pass_through_columns_and_empty_input():
    suit = pd.DataFrame({"recipient": ["A"], "supporter": ["S1"], "score": [2.0], "reasons": ["same ICB"]})
    plan = buddying_plan(suit)
    assert plan.pairs.loc[0, "reasons"] == "same ICB"
    assert list(plan.pairs.columns[:4]) == ["recipient", "supporter", "score", "role"]
    empty = buddying_plan(suit.iloc[0:0], recipients=["A"])
    assert empty.n_lead == 0 and empty.unmatched.reason.tolist() == ["no candidate supporter listed"]
