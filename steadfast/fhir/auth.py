"""Bearer tokens for the API: signed (django.core.signing), naming a staff user, 30 days long.

The token holds the user's id and session generation, so "sign out everywhere" (which raises the
generation) also ends every token; role and practice are read afresh on each call.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core import signing
from ninja.security import HttpBearer

TOKEN_LIFETIME = timedelta(days=30)
_SALT = "steadfast.fhir.token"


def make_token(user) -> str:
    return signing.dumps({"u": user.pk, "g": user.session_generation}, salt=_SALT, compress=True)


def user_for_token(token: str):
    """The active staff user the token names, or None (bad, expired or revoked token)."""
    try:
        claims = signing.loads(token, salt=_SALT, max_age=TOKEN_LIFETIME)
        user = get_user_model().objects.select_related("practice").get(pk=claims["u"])
    except (signing.BadSignature, KeyError, TypeError, ValueError, LookupError):
        return None
    except get_user_model().DoesNotExist:
        return None
    if not user.is_active or user.session_generation != claims.get("g"):
        return None
    return user


class BearerToken(HttpBearer):
    def authenticate(self, request, token: str):
        from steadfast.continuity.node.tokens import is_node_token, principal_for

        token = token.strip()
        user = principal_for(token) if is_node_token(token) else user_for_token(token)
        if user is not None:
            request.user = user  # what the access checks and the audit trail read
        return user
