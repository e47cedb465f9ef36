"""allauth adaptation: the workspace belongs to one operator, so nobody can sign up from the web, and
failed sign-ins are limited so that nobody elsewhere can lock the operator out (aios/signin_limits.py)."""

from allauth.account.adapter import DefaultAccountAdapter

from aios.signin_limits import signin_attempt_begin, signin_limits_clear, signin_network_remember


def _login_of(credentials: dict) -> str:
    return credentials.get("email") or credentials.get("username") or ""


class WorkspaceAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # Users are created by the operator (createsuperuser, the admin, seed_demo), never by visitors.
        return False

    def pre_authenticate(self, request, **credentials) -> None:
        # allauth rolls this usage back when the password is right (see DefaultAccountAdapter.authenticate).
        self._login_failed_rl_usage = signin_attempt_begin(request, login=_login_of(credentials))

    def authenticate(self, request, **credentials):
        user = super().authenticate(request, **credentials)
        if user is not None:
            signin_network_remember(request, login=_login_of(credentials))
        return user

    def _delete_login_attempts_cached_email(self, request, **credentials) -> None:
        # allauth calls this after a password reset by mail; our counters have their own keys.
        signin_limits_clear(request, login=_login_of(credentials))
