"""The answer side of a model call: the prompt hash, JSON schemas, and validating a reply against one."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

SchemaT = TypeVar("SchemaT", bound=BaseModel)


@functools.lru_cache(maxsize=256)
def json_schema(schema: type[BaseModel]) -> dict[str, Any]:
    """A schema's JSON schema, built once per class: pydantic rebuilds it on every call (milliseconds for
    the intake's fields), and the gateway needs it two or three times per call. Never mutated."""
    return schema.model_json_schema()


def prompt_hash(*, model: str, messages: list[dict[str, Any]], schema: dict[str, Any]) -> str:
    """sha256 of (model, messages, schema JSON): the cache key and the replay matcher."""
    canonical = json.dumps(
        {"model": model, "messages": messages, "schema": schema},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _json_text(text: str) -> str:
    """The JSON inside a reply; some OpenAI-compatible servers wrap it in a Markdown code fence."""
    stripped = text.strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", stripped, flags=re.DOTALL)
    return fenced.group(1) if fenced else stripped


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or '(whole answer)'}: {error['msg']}"
        for error in exc.errors(include_url=False)
    )


def validated(text: str | None, schema: type[SchemaT]) -> tuple[SchemaT | None, str]:
    """(value, "") when `text` is JSON that fits the schema, else (None, what is wrong)."""
    if text is None:
        return None, "the reply had no content"
    try:
        return schema.model_validate_json(_json_text(text)), ""
    except ValidationError as exc:
        return None, _problems(exc)
