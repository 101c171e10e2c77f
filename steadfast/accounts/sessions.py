"""Database sessions that carry their user: one query per request reads both.

Sessions stay rows in the database, read afresh on every request, so signing out, "sign out
everywhere" and the idle timeout reach every worker at once; only the round trip for the user
is saved. The user is still checked as Django checks it (active, session hash): the row read
with the session is handed to the authentication backend for this request only.
"""

from contextvars import ContextVar

from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from steadfast import joined_rows

# The user row read with this request's session, while Django's get_user() runs.
_read_with_session: ContextVar = ContextVar("user_read_with_session", default=None)


class SessionStore(DatabaseSessionStore):
    user_row = None  # the session's user as read with it (None: anonymous, or not loaded)

    @classmethod
    def get_model_class(cls):
        from steadfast.accounts.models import StaffSession

        return StaffSession

    def _get_session_from_db(self):
        """The unexpired session with its user and their practice, in one hand-written query
        (the ORM's query building was a fifth of a signed-in request's CPU)."""
        from steadfast.practices.models import Practice

        User, model = get_user_model(), self.model
        sql = (
            f"SELECT {joined_rows.columns(model, 's')}, {joined_rows.columns(User, 'u')},"
            f" {joined_rows.columns(Practice, 'p')} FROM {joined_rows.table(model)} s"
            f" LEFT JOIN {joined_rows.table(User)} u ON u.id = s.user_id"
            f" LEFT JOIN {joined_rows.table(Practice)} p ON p.id = u.practice_id"
            " WHERE s.session_key = %s AND s.expire_date > %s"
        )
        now = joined_rows.db_value(model, "expire_date", timezone.now())
        found = joined_rows.read_one(sql, [self.session_key, now], model, User, Practice)
        if found is None:
            self._session_key = None
            return None
        session, user, practice = found
        if user is not None:
            user.practice = practice
        session.user = user
        self.user_row = user
        return session

    def create_model_instance(self, data):
        session = super().create_model_instance(data)
        session.user_id = data.get(SESSION_KEY)
        return session


class SessionUserBackend(ModelBackend):
    """Django's model backend, taking the user read with the session when it is the one asked
    for (and applying the same is-active rule); otherwise it reads the user as usual."""

    def get_user(self, user_id):
        row = _read_with_session.get()
        if row is not None and str(row.pk) == str(user_id):
            return row if self.user_can_authenticate(row) else None
        return super().get_user(user_id)


def _user(request):
    from django.contrib import auth

    if not hasattr(request, "_cached_user"):
        request.session.get(SESSION_KEY)  # loads the session, and its user with it
        token = _read_with_session.set(getattr(request.session, "user_row", None))
        try:
            request._cached_user = auth.get_user(request)
        finally:
            _read_with_session.reset(token)
    return request._cached_user


class SessionUserMiddleware(AuthenticationMiddleware):
    """AuthenticationMiddleware whose request.user comes from the row read with the session."""

    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _user(request))
