"""The one NinjaAPI of the workspace, mounted at /api/v1/ (OpenAPI docs at /api/v1/docs)."""

from ninja import NinjaAPI

api = NinjaAPI(
    title="AIOS Workspace API",
    version="1",
    urls_namespace="api-v1",
)
