"""Progress scores for improvement projects: the IHI assessment scale.

The scale was developed by the Institute for Healthcare Improvement and Associates in Process Improvement for the
Breakthrough Series collaboratives (IHI, *The Breakthrough Series: IHI's Collaborative Model for Achieving
Breakthrough Improvement*, Innovation Series white paper, 2003); NHS teams meet it as the "progress score" of Life QI
("IHI Self Assessment Progress Scores", Life QI, 2019), which runs it from 0.5 to 5.0 in half points.  The whole
levels 1 to 5 are the "1 to 5 scale" (charter and team, activity, modest improvement, significant improvement,
outstanding sustainable results); the half points mark the steps between.  The labels below are short paraphrases;
docs/register.md gives the definitions.
"""

from __future__ import annotations

from partnering.errors import ValidationError

IHI_SCALE = {
    0.5: "Intent to participate",
    1.0: "Charter and team established",
    1.5: "Planning for the project has begun",
    2.0: "Activity, but no changes",
    2.5: "Changes tested, but no improvement",
    3.0: "Modest improvement",
    3.5: "Improvement",
    4.0: "Significant improvement",
    4.5: "Sustainable improvement",
    5.0: "Outstanding sustainable results",
}


def check_score(score) -> float:
    """A score on the scale (0.5 to 5.0 in half points), else :class:`ValidationError` listing the scale."""
    try:
        s = float(score)
    except (TypeError, ValueError):
        raise ValidationError(f"progress score {score!r} is not a number on the IHI scale (0.5 to 5.0)") from None
    if s not in IHI_SCALE:
        raise ValidationError(f"progress score {score} is not on the IHI assessment scale: use one of "
                              + ", ".join(f"{k:g}" for k in IHI_SCALE))
    return s


def label(score: float) -> str:
    return IHI_SCALE.get(float(score), "")
