"""Steadfast settings: one module, driven by the environment.

DATABASE_URL picks the database (SQLite under var/ by default, PostgreSQL in production, a
Patroni cluster as a multi-host URL: see steadfast/database_url.py);
SECRET_KEY comes from the environment or, for a local install, a file under var/.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import nhsuk_frontend_jinja
from csp.constants import NONCE, NONE, SELF

from steadfast import database_url

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("STEADFAST_VAR_DIR", BASE_DIR.parent / "var"))


def _env_flag(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).lower() in {"1", "true", "yes", "on"}


# A practice node (steadfast/continuity/node): a read-only copy of one practice that follows the
# central server. Its var directory holds patient data and credential hashes: it is made 0700,
# and belongs on an encrypted disk (docs/practice-node.md).
NODE_MODE = _env_flag("STEADFAST_NODE")
NODE_FOLLOW_SECONDS = float(os.environ.get("STEADFAST_NODE_FOLLOW_SECONDS", 3))
NODE_PACK_MINUTES = float(os.environ.get("STEADFAST_NODE_PACK_MINUTES", 1))


def _secret_key() -> str:
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        VAR_DIR.mkdir(mode=0o700 if NODE_MODE else 0o777, parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_flag("STEADFAST_DEBUG")
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "steadfast.accounts",
    "steadfast.practices",
    "steadfast.patients",
    "steadfast.appointments",
    "steadfast.audit",
    "steadfast.records",
    "steadfast.fhir",
    "steadfast.continuity",
    "steadfast.continuity.node",
    "steadfast.continuity.downtime",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "steadfast.accounts.sessions.SessionUserMiddleware",  # Django's, user read with session
    "django_otp.middleware.OTPMiddleware",
    "steadfast.accounts.access.PracticeScopeMiddleware",
    "steadfast.audit.origin.AuditOriginMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "steadfast.continuity.node.mode.ReadOnlyNodeMiddleware",
    "steadfast.accounts.middleware.IdleTimeoutMiddleware",
    "steadfast.accounts.middleware.SecondFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "steadfast.fhir.middleware.MethodNotAllowedAsOutcome",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

ROOT_URLCONF = "steadfast.urls"
WSGI_APPLICATION = "steadfast.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "jinja2", Path(nhsuk_frontend_jinja.__file__).parent / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"environment": "steadfast.jinja.environment"},
    },
]


def database_settings(url: str) -> dict:
    """Django's settings for the database at `url`: the embedded SQLite file or PostgreSQL."""
    # Connections are kept a minute, checked before reuse in each request, and dropped after an
    # error: after a failover the next request connects afresh and finds the new primary.
    db = database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    if db["ENGINE"] == "django.db.backends.sqlite3":
        db["CONN_MAX_AGE"] = 0
        db["OPTIONS"] = {
            # WAL lets readers carry on while one writer writes; IMMEDIATE takes the write
            # lock at BEGIN so two bookings queue instead of failing on lock upgrade.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    else:
        # PostgreSQL binds the parameters itself, and a connection prepares a statement the
        # second time it runs it: a request's queries are planned once a connection, not once
        # a request, which was most of PostgreSQL's CPU in the 8 a.m. rush (ADR 0023).
        db["OPTIONS"] = db.get("OPTIONS", {}) | {
            "server_side_binding": True,
            "prepare_threshold": 2,
        }
    return db


DATABASES = {
    "default": database_settings(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'steadfast.sqlite3'}"
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# django-axes first: it refuses a locked-out username+address before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "steadfast.accounts.sessions.SessionUserBackend",  # Django's ModelBackend, see the module
]
SESSION_ENGINE = "steadfast.accounts.sessions"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 60 * 60  # one working day
SESSION_IDLE_TIMEOUT = 15 * 60  # signed out after this long without a request
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if _env_flag("STEADFAST_HTTPS"):
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content Security Policy: our own scripts and styles only; the one inline script (the NHS.UK
# template's js-enabled switch) carries the request's nonce.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        # Nothing from off the server: the NHS.UK stylesheet is built without its web font
        # (see the Makefile's assets target), so no page depends on another host being up.
        "font-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# Second factor: TOTP from an authenticator app (django-otp), for SECOND_FACTOR_ROLES.
OTP_TOTP_ISSUER = "Steadfast"

# Lockout (django-axes): five failed passwords for one username from one address lock that
# pair for 15 minutes; a correct password before then resets the count. Whether the username
# exists makes no difference, so the lockout page reveals nothing.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.jinja"
AXES_DISABLE_ACCESS_LOG = True  # successful logins go to the audit trail instead

# Audit: the chain's HMAC key (derived from SECRET_KEY when unset; keep it out of the database
# host). AUDIT_ENABLED exists only so benchmarks/audit.py can measure what auditing costs.
AUDIT_KEY = os.environ.get("AUDIT_KEY", "")
AUDIT_ENABLED = os.environ.get("STEADFAST_BENCHMARK_AUDIT_OFF") != "1"
# Audit checkpoints (audit/checkpoints.py): each practice's chain head, signed, appended to a
# file outside the database's folder every AUDIT_CHECKPOINT_EVERY entries and on the first entry
# after AUDIT_CHECKPOINT_MINUTES (`steadfast audit-checkpoint` covers quiet chains), and copied
# to syslog where its socket exists. Point the file at another disk or host's mount in
# production, and make it append-only there (`chattr +a`). The signing key is derived from the
# audit key unless AUDIT_CHECKPOINT_KEY is set.
AUDIT_CHECKPOINT_FILE = Path(
    os.environ.get("AUDIT_CHECKPOINT_FILE", VAR_DIR / "audit-checkpoints" / "checkpoints.log")
)
AUDIT_CHECKPOINT_KEY = os.environ.get("AUDIT_CHECKPOINT_KEY", "")
AUDIT_CHECKPOINT_EVERY = int(os.environ.get("AUDIT_CHECKPOINT_EVERY", "500"))
AUDIT_CHECKPOINT_INTERVAL = timedelta(
    minutes=float(os.environ.get("AUDIT_CHECKPOINT_MINUTES", "5"))
)
AUDIT_SYSLOG_ADDRESS = os.environ.get("AUDIT_SYSLOG_ADDRESS", "/dev/log")  # "" for none

# Downtime packs (steadfast/continuity): `steadfast worker` builds one every PACK_EVERY_MINUTES
# into PACK_DIR (a practice share or USB stick), keeping the newest PACK_KEEP. The worker gets the
# practice's downtime passphrase from STEADFAST_PACK_PASSPHRASE or the file named here.
PACK_DIR = Path(os.environ.get("STEADFAST_PACK_DIR", VAR_DIR / "packs"))
PACK_EVERY_MINUTES = int(os.environ.get("STEADFAST_PACK_EVERY_MINUTES", 15))
PACK_KEEP = int(os.environ.get("STEADFAST_PACK_KEEP", 8))
PACK_DAYS = int(os.environ.get("STEADFAST_PACK_DAYS", 2))
PACK_PASSPHRASE_FILE = os.environ.get("STEADFAST_PACK_PASSPHRASE_FILE", "")

# Backups of the embedded SQLite database (`steadfast backup`): the worker takes one every
# BACKUP_EVERY_MINUTES into BACKUP_DIR (best on another disk or a share), keeping BACKUP_KEEP,
# encrypted to the age public key BACKUP_RECIPIENT when set. PostgreSQL: pgBackRest instead.
BACKUP_DIR = Path(os.environ.get("STEADFAST_BACKUP_DIR", VAR_DIR / "backups"))
BACKUP_EVERY_MINUTES = int(os.environ.get("STEADFAST_BACKUP_EVERY_MINUTES", 60))
BACKUP_KEEP = int(os.environ.get("STEADFAST_BACKUP_KEEP", 48))
BACKUP_RECIPIENT = os.environ.get("STEADFAST_BACKUP_RECIPIENT", "")

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Application logs carry no patient identifiers: request lines are logged without query strings
# (see steadfast/management serve) and our own code logs ids, never names or NHS numbers.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        "axes": {"level": "WARNING"},  # lockouts only; the audit trail records every login
        "weasyprint": {"level": "WARNING"},  # not a line per page of a PDF
        "fontTools": {"level": "WARNING"},
        "apscheduler": {"level": "WARNING"},  # our jobs log what they do themselves
    },
}
