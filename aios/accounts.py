"""allauth adaptation: the workspace belongs to one operator, so nobody can sign up from the web."""

from allauth.account.adapter import DefaultAccountAdapter


class WorkspaceAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # Users are created by the operator (createsuperuser, the admin, seed_demo), never by visitors.
        return False
