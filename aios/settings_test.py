"""Settings for the test suite: a throw-away embedded PostgreSQL, deleted when the run ends.

With DATABASE_URL set the suite uses that server instead (pytest-django creates `test_<name>` on it).
"""

import atexit
import os
import shutil
import tempfile

if "AIOS_DATA_DIR" not in os.environ:
    os.environ["AIOS_DATA_DIR"] = tempfile.mkdtemp(prefix="aios-test-")
    # Registered before the embedded server's own exit handler, so it runs after the server stopped.
    atexit.register(shutil.rmtree, os.environ["AIOS_DATA_DIR"], ignore_errors=True)
os.environ.setdefault("AIOS_EMBEDDED_EPHEMERAL", "1")
os.environ.setdefault("AIOS_SECRET_KEY", "test-secret-key-that-is-long-enough-for-django-checks")

from aios.settings import *  # noqa: E402,F403
from aios.settings import STATIC_ROOT  # noqa: E402

# Hashing passwords with PBKDF2 at full strength would dominate the suite's run time.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests serve static files from the source folders; nothing is collected.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
