"""`.env.example` lists every setting the code reads, so an operator can see all of them in one place."""

import re

from django.conf import settings

READ = re.compile(
    r"""env_(?:str|bool|int|list)\(\s*["']([A-Z0-9_]+)["']|os\.environ(?:\.get)?[\[(]\s*["']([A-Z0-9_]+)"""
)
LISTED = re.compile(r"^#?\s*([A-Z0-9_]+)=", re.MULTILINE)
NOT_SETTINGS = {"DJANGO_SETTINGS_MODULE"}


def test_every_setting_read_by_the_code_is_in_env_example():
    base = settings.BASE_DIR
    read = set()
    for folder in ("aios", "core", "agents", "ledger", "connectors"):
        for path in (base / folder).rglob("*.py"):
            if path.name == "settings_test.py":
                continue
            for match in READ.finditer(path.read_text()):
                read.add(match.group(1) or match.group(2))
    listed = set(LISTED.findall((base / ".env.example").read_text()))
    assert "AIOS_DATA_DIR" in read and "DATABASE_URL" in read
    assert read - NOT_SETTINGS <= listed, f"missing from .env.example: {sorted(read - NOT_SETTINGS - listed)}"
