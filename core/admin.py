from core import admin_tokens  # noqa: F401 - registers the API token admin
