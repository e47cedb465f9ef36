"""The read-only page of the agents and workflows declared in code."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import path, reverse
from pydantic import BaseModel
from pydantic.errors import PydanticUserError

from agents import kernel


def _json_type(schema: dict[str, Any]) -> str:
    """A short type name from a JSON schema: "list[string (email)]", "string | null", "CostLine"."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(_json_type(option) for option in schema["anyOf"])
    if "enum" in schema:
        return "one of " + ", ".join(map(str, schema["enum"]))
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list[{_json_type(schema.get('items', {}))}]"
    return f"{kind} ({schema['format']})" if "format" in schema else kind


def schema_fields(schema: type[BaseModel] | None) -> list[dict[str, Any]]:
    """The fields of a pydantic schema as the operator reads them: name, type, required, default."""
    if schema is None:
        return []
    try:
        json_schema = schema.model_json_schema()
    except PydanticUserError:
        return [{"name": schema.__name__, "type": "(not expressible as JSON schema)", "required": False}]
    required = set(json_schema.get("required", ()))
    return [
        {
            "name": name,
            "type": _json_type(field),
            "required": name in required,
            "default": json.dumps(field["default"]) if "default" in field else "",
            "description": field.get("description", ""),
        }
        for name, field in json_schema.get("properties", {}).items()
    ]


def registry_view(request: HttpRequest) -> TemplateResponse:
    agents = kernel.agents_all()
    versions = {agent.name: agent.version for agent in agents}
    return TemplateResponse(
        request,
        "admin/ledger/registry.html",
        {
            **admin.site.each_context(request),
            "title": "Agents and workflows",
            "workflows": [
                {
                    "name": workflow.name,
                    "description": workflow.description,
                    "max_attempts": workflow.max_attempts,
                    "input_fields": schema_fields(workflow.input_schema),
                    "steps": [
                        {"name": step.name, "agent": step.agent, "version": versions.get(step.agent, "?")}
                        for step in workflow.steps
                    ],
                }
                for workflow in kernel.workflows_all()
            ],
            "agents": [
                {
                    "name": agent.name,
                    "version": agent.version,
                    "description": agent.description,
                    "input_fields": schema_fields(agent.Input),
                    "output_fields": schema_fields(agent.Output),
                }
                for agent in agents
            ],
        },
    )


def _install_registry_page(site: admin.AdminSite) -> None:
    """Add the read-only registry page to the admin, and list it with the ledger's models.

    The registry lives in code, not in a table, so there is no model admin to carry it: the page is a
    plain admin view (staff only, via `admin_view`), and the app list gains an entry pointing at it.
    """
    site_urls, site_app_list = site.get_urls, site.get_app_list

    def get_urls() -> list:
        # Before the admin's catch-all pattern, which would otherwise answer 404.
        registry = path("ledger/registry/", site.admin_view(registry_view), name="ledger_registry")
        return [registry, *site_urls()]

    def get_app_list(request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        app_list = site_app_list(request, app_label)
        for app in app_list:
            if app["app_label"] == "ledger":
                app["models"].append(
                    {
                        "model": None,
                        "name": "Agents and workflows",
                        "object_name": "Registry",
                        "perms": {"add": False, "change": False, "delete": False, "view": True},
                        "admin_url": reverse("admin:ledger_registry", current_app=site.name),
                        "add_url": None,
                        "view_only": True,
                    }
                )
                app["models"].sort(key=lambda model: model["name"])
        return app_list

    site.get_urls = get_urls
    site.get_app_list = get_app_list


_install_registry_page(admin.site)
