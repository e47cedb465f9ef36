"""The API's surface — each operation's path, method, id, tags, parameters, body and answers, and the names of
the schemas — is the one checked in (openapi_surface.json): generated clients depend on it, so a change to
it is made on purpose, never as a side effect of reorganising the code that declares the operations.

After an intended change: `python -m tests.aios.test_openapi_surface` (with DJANGO_SETTINGS_MODULE set)
writes the file again; review its diff with the change.
"""

import json
from pathlib import Path

EXPECTED = Path(__file__).with_name("openapi_surface.json")


def _schema_name(content: dict | None) -> str | None:
    schema = next(iter((content or {}).values()), {}).get("schema", {})
    return schema.get("$ref", "").rpartition("/")[2] or schema.get("type")


def api_surface() -> dict:
    from aios.api import api

    document = api.get_openapi_schema()
    operations = {}
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            operations[f"{method.upper()} {path}"] = {
                "operationId": operation["operationId"],
                "tags": operation.get("tags", []),
                "parameters": [
                    f"{parameter['in']} {parameter['name']}{'' if parameter.get('required') else '?'}"
                    for parameter in operation.get("parameters", [])
                ],
                "body": _schema_name(operation.get("requestBody", {}).get("content")),
                "responses": {
                    str(status): _schema_name(answer.get("content"))
                    for status, answer in operation["responses"].items()
                },
            }
    return {"operations": operations, "schemas": sorted(document["components"]["schemas"])}


def test_the_api_surface_is_the_one_checked_in():
    assert api_surface() == json.loads(EXPECTED.read_text())


if __name__ == "__main__":
    import django

    django.setup()
    EXPECTED.write_text(json.dumps(api_surface(), indent=1, ensure_ascii=False) + "\n")
