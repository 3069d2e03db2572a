"""The login throttle as an authentication backend (django-axes), first in
AUTHENTICATION_BACKENDS."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuses a locked-out user name and address before any password is checked.

    Sign-ins over HTTP (the login page, the admin's) always come with their request. A call
    without one (the test client's `login()`, a shell) has no address to count against, so
    it is not throttled here rather than refused outright (axes raises by default)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
