import os

import pytest
from rest_framework.test import APIClient

from artifacts_app import services

_skipped_browser_tests: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped and "browser" in report.keywords:
        _skipped_browser_tests.append(report.nodeid)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    # In CI (REQUIRE_BROWSER=1) a skipped browser test is a failure, not a silent pass.
    if os.environ.get("REQUIRE_BROWSER") and _skipped_browser_tests:
        print(
            f"\nREQUIRE_BROWSER is set but {len(_skipped_browser_tests)} browser tests were skipped"
        )
        session.exitstatus = 1


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="writer", password="pw-writer-123")


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user(
        username="staff", password="pw-staff-123", is_staff=True, is_superuser=True
    )


@pytest.fixture
def token(user):
    _, raw = services.token_create(user=user, name="tests")
    return raw


@pytest.fixture
def anon_client():
    return APIClient()


@pytest.fixture
def api_client(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def on_postgres(settings):
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
