"""`{% open_notices %}`: the operator's open notices as a banner (admin index, home page).

Read from the database on each page, so a notice needs nothing but the web process to be seen."""

from __future__ import annotations

from typing import Any

from django import template

from ledger import selectors

register = template.Library()


@register.inclusion_tag("ledger/_notices.html", takes_context=True)
def open_notices(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_staff:
        return {"notices": []}
    return {"notices": selectors.notices_open()}
