"""What the proposal writer gets (the read mail, the intake, the route, the estimate) and returns."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from agents.coordinator import Route
from agents.estimator import Estimate
from agents.intake import MailRead


class WriteInput(BaseModel):
    read: MailRead
    intake: dict[str, Any]
    route: Route
    estimate: Estimate


class Written(BaseModel):
    route: str
    actions: list[str]
    summary: str = ""
