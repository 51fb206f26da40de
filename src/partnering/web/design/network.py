"""Design stage: the network tool's pages and API (issue #12)."""

from __future__ import annotations

from fastapi import APIRouter

pages = APIRouter(include_in_schema=False)
api = APIRouter()
