"""match: peer finder, partner scoring and explanations, optimal buddying plan."""

from partnering.match.peers import DEFAULT_WEIGHT_SOURCES, default_weights, explain_peer, find_peers
from partnering.match.plan import BuddyingPlan, buddying_plan, plan_mip_highs

__all__ = [
    "DEFAULT_WEIGHT_SOURCES",
    "BuddyingPlan",
    "buddying_plan",
    "default_weights",
    "explain_peer",
    "find_peers",
    "plan_mip_highs",
]
