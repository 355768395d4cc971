"""Settings read from the environment (django-environ).

With no environment variables at all the app runs embedded: SQLite file under var/, Celery
tasks executed in-process, e-mail to the console. DATABASE_URL switches to PostgreSQL and
CELERY_BROKER_URL (or REDIS_URL) to a Redis broker with real workers.
"""

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-insecure-key-change-me-in-production-0123456789")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "django_filters",
    "django_htmx",
    "axes",
    "accounts",
    "audit",
    "catalogue",
    "pricing",
    "appeals",
    "compliance",
]

MIDDLEWARE = [
    "config.health.HealthCheckMiddleware",  # first: /healthz is exempt from host and HTTPS checks
    "audit.request_id.RequestIdMiddleware",  # issue 11: request_id on every audit row
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.SessionLifetimeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "config.middleware.BrokerUnavailableMiddleware",
    "config.bad_input.RejectNulMiddleware",  # issue 11: hostile input → 400, never 500
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "django.template.context_processors.i18n",
            ],
        },
    },
    {  # only for the review pages' long row loops, rendered explicitly (pricing.review.row_html)
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "config.jinja2.environment"},
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 30)
    # temp_store=MEMORY: statement journals (every INSERT into a table with triggers, e.g. pricing_flag)
    # stay in memory instead of a temporary file each (≈ 5 s per 44,000 flags stored)
    DATABASES["default"]["OPTIONS"].setdefault(
        "init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY;"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Login lockout (issue 11) ---------------------------------------------------------------
# django-axes locks a (username, client address) pair after AXES_FAILURE_LIMIT failures; a username
# is locked everywhere only at LOGIN_USERNAME_FAILURE_CEILING failures per hour from all addresses,
# and the admins get a notice (accounts.lockout). The client address is taken from X-Forwarded-For
# only as far as TRUSTED_PROXY_COUNT proxies (nginx = 1 in production) vouch for it (accounts.client_ip).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "accounts.lockout.PairAndCeilingHandler"
AXES_CLIENT_IP_CALLABLE = "accounts.client_ip.client_ip"
AXES_RESET_ON_SUCCESS = True
LOGIN_USERNAME_FAILURE_CEILING = env.int("LOGIN_USERNAME_FAILURE_CEILING", default=30)
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"

# Sessions: 30 minutes idle (the expiry slides at most once a minute), 12 hours absolute (accounts.middleware).
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = False  # the idle timeout slides once a minute (accounts.middleware), not per request
SESSION_REFRESH_SECONDS = 60
SESSION_ABSOLUTE_SECONDS = 12 * 60 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Collected static files live outside VAR_DIR in the image (STATIC_ROOT=/app/staticfiles, written at
# build time): VAR_DIR is the private-data volume, which would hide whatever the image put there.
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Private files (uploads, evidence, exports): never served by a URL, only by permission-checked views.
PRIVATE_ROOT = Path(env.str("PRIVATE_ROOT", default=str(VAR_DIR / "private")))
MEDIA_ROOT = PRIVATE_ROOT
MEDIA_URL = "/private-not-served/"  # nothing is routed here; files go through views

# Upload limits
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
CATALOGUE_UPLOAD_MAX_BYTES = env.int("CATALOGUE_UPLOAD_MAX_BYTES", default=512 * 1024 * 1024)
EVIDENCE_MAX_BYTES = env.int("EVIDENCE_MAX_BYTES", default=20 * 1024 * 1024)

# Celery: embedded default runs tasks in-process.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=env.str("REDIS_URL", default=""))
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# In-process tasks behave as on a worker: a task records its own failure, and `self.retry` re-runs it
# in-process (with propagation on, Celery would raise `Retry` into the web request instead).
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 60 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 55 * 60
# An unacknowledged task of a worker that died (acks_late) is redelivered by Redis only after this.
_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=2 * 60 * 60)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": _VISIBILITY_TIMEOUT}
if _VISIBILITY_TIMEOUT < 10 * 60:
    # kombu sweeps for expired messages only every interval × throttle (10 × 10 s) by default
    CELERY_BROKER_TRANSPORT_OPTIONS |= {"unacked_restore_interval": 1, "unacked_restore_throttle": 1}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "appeal-deadline-reminders": {
        "task": "appeals.tasks.send_deadline_reminders",
        "schedule": 60 * 60,
    },
    "close-expired-appeal-windows": {
        "task": "appeals.tasks.close_expired_windows",
        "schedule": 5 * 60,
    },
    "adjustment-deadline-reminders": {
        "task": "compliance.tasks.send_adjustment_reminders",
        "schedule": 60 * 60,
    },
}

# --- Durable jobs (issue 11) --------------------------------------------------------------------
# Every job has a ticket (jobs.JobTicket) written with it; a beat sweeper re-sends tickets that are
# queued with no broker message or running with a stale heartbeat. Publishing gives up quickly when
# the broker is down: the job stays queued and the request answers "已受理，稍后开始".
INSTALLED_APPS += ["jobs"]
JOB_SWEEP_SECONDS = env.int("JOB_SWEEP_SECONDS", default=60)
# from this many listings on, detection reads the reference prices and runs the 四同 rule in forked
# children (pricing.engine.parallel)
DETECTION_PARALLEL_MIN_ROWS = env.int("DETECTION_PARALLEL_MIN_ROWS", default=50_000)
JOB_HEARTBEAT_SECONDS = env.float("JOB_HEARTBEAT_SECONDS", default=10)
JOB_STALE_SECONDS = env.int("JOB_STALE_SECONDS", default=90)
JOB_QUEUED_GRACE_SECONDS = env.int("JOB_QUEUED_GRACE_SECONDS", default=120)
JOB_MAX_REQUEUES = env.int("JOB_MAX_REQUEUES", default=5)
CELERY_BEAT_SCHEDULE["sweep-durable-jobs"] = {"task": "jobs.tasks.sweep", "schedule": JOB_SWEEP_SECONDS}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))  # for EMAIL_BACKEND=filebased
# Untrusted XLSX files are parsed in a forked child: address space it may add, and wall-clock limit.
INGEST_SANDBOX_MEMORY_MB = env.int("INGEST_SANDBOX_MEMORY_MB", default=4096)
INGEST_SANDBOX_SECONDS = env.int("INGEST_SANDBOX_SECONDS", default=600)
# ----------------------------------------------------------------------------------------------------

# E-mail (deadline reminders, notices): the console by default; SMTP when EMAIL_BACKEND says so.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="noreply@yibao.example")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "config.openapi.ContractAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # issue 11: over-deep JSON and NUL in strings → 400
    "DEFAULT_PARSER_CLASSES": [
        "config.bad_input.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "药价纠偏 API",
    "DESCRIPTION": "Drug price-correction review platform",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_NAME_OVERRIDES": {
        "ImportStatusEnum": "catalogue.models.ImportStatus",
        "RoundStatusEnum": "pricing.models.RoundStatus",
        "JobStatusEnum": "pricing.models.JobStatus",
        "FlagStatusEnum": "pricing.models.FlagStatus",
        "AppealStatusEnum": "appeals.models.AppealStatus",
    },
}

# Content Security Policy (django-csp 4): everything is vendored, so 'self' only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],  # issue 11: no 'unsafe-eval' (the SVG traces used here never eval)
        "style-src": ["'self'", "'unsafe-inline'"],  # plotly injects styles
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Logging: one handler on the root logger, every line printed once. Django's own default handlers
# on "django" and "django.server" are replaced (they printed each request warning a second time);
# 4xx warnings (403, 400) are one line without the traceback of the exception behind them.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"client_errors_without_traceback": {"()": "config.log_filters.ClientErrorTracebackFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "line",
            "filters": ["client_errors_without_traceback"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        "axes": {"level": "WARNING"},
    },
}
