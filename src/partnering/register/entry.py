"""What a register entry holds, and its validation (pydantic): one model for every face (CLI, file import, web form,
API), so they accept and refuse the same things with the same words.

Forms follow the options framework of the appraisal stage (:data:`partnering.appraise.case.FORM_LABELS`) and the
forms named in issue #11: buddying, alliance, joint venture shared service, management contract, merger,
public-private partnership (the NHS Providers / NHS Confederation typology of provider collaboration; see
docs/register.md for sources).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from partnering.store.partnerships import INGREDIENTS

FORMS = {
    "buddying": "Buddying (a high performer supports a trust in difficulty)",
    "alliance": "Alliance or clinical network",
    "joint_venture": "Joint venture shared service",
    "management_contract": "Management contract",
    "merger": "Merger or acquisition",
    "public_private": "Public–private partnership",
}
STATUSES = {"proposed": "Proposed", "active": "Active", "ended": "Ended"}
#: roles of further parties (besides the recipient and the supporter, which every entry has)
PARTY_ROLES = {
    "partner": "Partner (NHS)",
    "independent_sector": "Independent-sector provider",
    "university": "University or academic partner",
    "technology_partner": "Technology partner",
    "consultancy": "Consultancy partner",
    "commissioner": "Commissioner (ICB)",
    "regulator": "Regulator or oversight body",
}
ISO_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")

Text = Annotated[str | None, Field(default=None, max_length=20_000)]


def _month(v, info: ValidationInfo):
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    v = str(v).strip()
    if not ISO_MONTH.fullmatch(v):
        raise ValueError(f"{info.field_name} must be an ISO month such as 2025-04")
    return v


def _blank_none(v):
    if isinstance(v, str):
        v = v.strip()
        return v or None
    return v


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PartyIn(_Model):
    """A further party: an organisation the store knows (``org_code``) or one it does not (``name``)."""

    role: str
    org_code: str | None = Field(default=None, max_length=16)
    name: str | None = Field(default=None, max_length=200)

    @field_validator("org_code", "name", mode="before")
    @classmethod
    def _blank(cls, v):
        return _blank_none(v)

    @field_validator("org_code")
    @classmethod
    def _upper(cls, v):
        return v.upper() if v else v

    @field_validator("role")
    @classmethod
    def _role(cls, v):
        if v not in PARTY_ROLES:
            raise ValueError(f"role must be one of {', '.join(PARTY_ROLES)}")
        return v

    @model_validator(mode="after")
    def _someone(self):
        if not self.org_code and not self.name:
            raise ValueError("a party needs an ODS code (org_code) or a name")
        return self


class TargetIn(_Model):
    """An indicator the partnership should move: baseline, target and the month to meet it by (each optional)."""

    indicator_code: str = Field(min_length=1, max_length=80)
    org_code: str | None = Field(default=None, max_length=16)
    baseline: float | None = None
    target: float | None = None
    target_period: str | None = None

    @field_validator("org_code", "baseline", "target", mode="before")
    @classmethod
    def _blank(cls, v):
        return _blank_none(v)

    @field_validator("org_code")
    @classmethod
    def _upper(cls, v):
        return v.upper() if v else v

    _target_month = field_validator("target_period", mode="before")(_month)


class PartnershipEntry(_Model):
    """A register entry as entered: the store adds its id, version, author and times."""

    recipient_code: str = Field(min_length=1, max_length=16)
    supporter_code: str = Field(min_length=1, max_length=16)
    form: str
    start_period: str | None = None
    end_period: str | None = None
    title: str | None = Field(default=None, max_length=300)
    status: str = "active"
    mandated: bool = False
    mandated_by: str | None = Field(default=None, max_length=200)
    aims: Text
    leadership_support: Text
    measures_agreed: Text
    why_this_partner: Text
    staff_engagement: Text
    good_practice: Text
    lessons: Text
    appraisal_case_id: int | None = None
    renews_id: int | None = None
    parties: list[PartyIn] = Field(default_factory=list)
    targets: list[TargetIn] = Field(default_factory=list)

    @field_validator("title", "mandated_by", "aims", "lessons", *INGREDIENTS, "appraisal_case_id", "renews_id",
                     mode="before")
    @classmethod
    def _blank(cls, v):
        return _blank_none(v)

    @field_validator("recipient_code", "supporter_code")
    @classmethod
    def _code(cls, v: str) -> str:
        return v.upper()

    @field_validator("form")
    @classmethod
    def _form(cls, v: str) -> str:
        if v not in FORMS:
            raise ValueError(f"form must be one of {', '.join(FORMS)}")
        return v

    @field_validator("status")
    @classmethod
    def _status(cls, v: str) -> str:
        if v not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        return v

    _months = field_validator("start_period", "end_period", mode="before")(_month)

    @model_validator(mode="after")
    def _consistent(self):
        if self.recipient_code == self.supporter_code:
            raise ValueError("the supporter must differ from the recipient")
        if self.start_period and self.end_period and self.end_period < self.start_period:
            raise ValueError(f"end_period {self.end_period} is before start_period {self.start_period}")
        if self.mandated_by and not self.mandated:
            self.mandated = True  # naming who mandated it says it was mandated
        if self.status == "ended" and not self.end_period:
            raise ValueError("an ended partnership needs its end_period")
        return self

    def ingredients(self) -> dict[str, str | None]:
        return {k: getattr(self, k) for k in INGREDIENTS}

    def missing_ingredients(self) -> list[str]:
        """The ingredients for success the entry does not yet address (their labels), for the page's warning."""
        return [label for k, label in INGREDIENTS.items() if not getattr(self, k)]


ENTRY_FIELDS = tuple(PartnershipEntry.model_fields)
