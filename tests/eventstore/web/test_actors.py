"""actor_of_request: the admin's user with a short, non-secret id of the session; nobody for an
anonymous request."""

import hashlib

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from eventstore.actors import Actor
from eventstore.web.actors import actor_of_request


@pytest.mark.django_db
def test_an_admin_request_acts_as_its_user_in_its_session(finance_user):
    request = RequestFactory().post("/admin/payments/paymentsummary/")
    request.user, request.session = finance_user, SessionStore()
    request.session.create()

    actor = actor_of_request(request)

    assert actor == Actor(kind="user", id=str(finance_user.pk), name="fiona", channel="admin",
                          session=hashlib.sha256(request.session.session_key.encode()).hexdigest()[:16])
    assert request.session.session_key not in str(actor.to_dict())

    request.user = AnonymousUser()
    with pytest.raises(PermissionDenied):
        actor_of_request(request)
