"""The email preferences page: login required, GET shows the choice, POST saves it (CSRF)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from governance.notifications.models import NotificationPreference
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

URL = "/account/notifications/"


def _checked(html: str) -> list[str]:
    """The values of the checked radio buttons."""
    return re.findall(r'<input type="radio" name="email" value="(\w+)"[^>]*\bchecked\b', html)


def _client(user, **kw) -> Client:
    client = Client(**kw)
    client.force_login(user)
    return client


def test_it_sends_anonymous_visitors_to_the_login_page(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client.post(URL, {"email": "off"}).status_code == 302
    assert not NotificationPreference.objects.exists()


def test_it_shows_the_default_choice_and_the_address(bob):
    response = _client(bob).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert _checked(html) == ["immediately"]
    assert bob.email in html
    assert "07:00 (UTC)" in html


def test_it_saves_the_choice_for_this_user_only(bob, carol):
    response = _client(bob).post(URL, {"email": "daily_digest"}, follow=True)
    assert response.status_code == 200
    assert "Saved: you get one daily digest." in response.content.decode()
    assert NotificationPreference.objects.get(user=bob).email == "daily_digest"
    assert not NotificationPreference.objects.filter(user=carol).exists()
    assert _checked(response.content.decode()) == ["daily_digest"]


def test_it_refuses_an_unknown_choice(bob):
    response = _client(bob).post(URL, {"email": "hourly"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not NotificationPreference.objects.exists()


def test_a_post_without_the_csrf_token_is_refused(bob):
    client = Client(enforce_csrf_checks=True)
    assert client.login(username="bob", password=PASSWORD)
    assert client.post(URL, {"email": "off"}).status_code == 403
    assert not NotificationPreference.objects.exists()


def test_every_page_links_to_it(bob):
    assert f'href="{URL}"' in _client(bob).get("/").content.decode()
