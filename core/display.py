"""How data is shown to the operator, the same on every page."""

from __future__ import annotations

import json
from typing import Any


def json_pretty(data: Any) -> str:
    """Data as indented JSON with sorted keys, non-ASCII kept, anything else (dates, Decimals) as text."""
    return json.dumps(data, indent=2, default=str, ensure_ascii=False, sort_keys=True)
