"""Revocation and limits over real HTTP, with TWO server processes: a revoked token, a deleted
token or a deactivated user is refused on the very next request by both; with REDIS_URL the API
throttles and the admin login lockout are counted once for both (without it, per process)."""

import re
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from artifacts_app import services
from artifacts_app.models import ApiToken
from tests.conftest import database_url, start_uvicorn, stop_process

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def two_servers(request):
    """start(extra_env) -> [base URL of process A, of process B], both on the test database."""
    started = []

    def start(extra_env=None):
        with ThreadPoolExecutor(2) as pool:
            pair = list(pool.map(lambda _: start_uvicorn(database_url(), extra_env), range(2)))
        started.extend(process for process, _ in pair)
        return [base for _, base in pair]

    yield start
    for process in started:
        stop_process(process)
    from django.db import connections

    connections.close_all()


def write(client, base, n=0):
    return client.post(f"{base}/api/artifacts/", json={"key": "revocation", "data": n})


def admin_login(client, base, username, password):
    page = client.get(f"{base}/admin/login/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return client.post(
        f"{base}/admin/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": csrf},
        headers={"Referer": f"{base}/admin/login/"},
    )


@pytest.mark.parametrize("how", ["revoke in admin", "delete", "deactivate user"])
def test_revocation_stops_the_token_in_every_process_at_once(
    how, two_servers, redis_env, user, staff_user
):
    a, b = two_servers(redis_env)
    stored, raw = services.token_create(user=user, name="to revoke")
    headers = {"Authorization": f"Bearer {raw}"}
    with httpx.Client(timeout=20, headers=headers) as client:
        for base in (a, b):  # both processes have seen the token work
            assert write(client, base).status_code == 201
        if how == "revoke in admin":
            with httpx.Client(timeout=20) as staff:
                assert admin_login(staff, a, "staff", "pw-staff-123").status_code == 302
                page = staff.get(f"{a}/admin/artifacts_app/apitoken/")
                csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
                done = staff.post(
                    f"{a}/admin/artifacts_app/apitoken/",
                    data={
                        "action": "revoke",
                        "_selected_action": [stored.pk],
                        "csrfmiddlewaretoken": csrf.group(1),
                    },
                    headers={"Referer": f"{a}/admin/artifacts_app/apitoken/"},
                )
                assert done.status_code == 302
            assert ApiToken.objects.get(pk=stored.pk).revoked
        elif how == "delete":
            stored.delete()
        else:
            user.is_active = False
            user.save(update_fields=["is_active"])
        for base in (b, a):  # the next request, in the other process first
            refused = write(client, base, 1)
            assert refused.status_code == 401, (base, refused.text)
            assert refused.headers["WWW-Authenticate"].startswith("Bearer")


def _hour_window():
    return int(time.time() // 3600)


def _alternate(clients_and_urls, rounds):
    """Send `rounds` requests to each process, alternating A, B, A, B...; the statuses."""
    statuses = []
    for _ in range(rounds):
        for send in clients_and_urls:
            statuses.append(send())
    return statuses


def _within_one_window(fn):
    """Fixed-window counters reset on the hour: run again if the run straddled a boundary."""
    for _ in range(2):
        window = _hour_window()
        result = fn()
        if _hour_window() == window:
            return result
    raise AssertionError("two runs straddled an hour boundary")


def test_anonymous_throttle_is_shared_by_two_processes_through_redis(two_servers, redis_env):
    a, b = two_servers({**redis_env, "ARTIFACTS_THROTTLE_ANON": "6/hour"})
    with httpx.Client(timeout=20) as client:
        statuses = _within_one_window(
            lambda: _alternate(
                [
                    lambda: client.get(f"{a}/api/artifacts/").status_code,
                    lambda: client.get(f"{b}/api/artifacts/").status_code,
                ],
                rounds=5,
            )
        )
    assert statuses == [200] * 6 + [429] * 4
    limited = httpx.get(f"{b}/api/artifacts/", timeout=20)
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1


def test_token_throttle_is_shared_by_two_processes_through_redis(two_servers, redis_env, token):
    a, b = two_servers({**redis_env, "ARTIFACTS_THROTTLE_USER": "4/hour"})
    with httpx.Client(timeout=20, headers={"Authorization": f"Bearer {token}"}) as client:
        statuses = _within_one_window(
            lambda: _alternate(
                [lambda: write(client, a).status_code, lambda: write(client, b).status_code],
                rounds=3,
            )
        )
    assert statuses == [201] * 4 + [429] * 2


def test_without_redis_each_process_counts_its_own(two_servers):
    """The README's warning, shown: without REDIS_URL the limit applies per process."""
    a, b = two_servers({"REDIS_URL": "", "ARTIFACTS_THROTTLE_ANON": "3/hour"})
    with httpx.Client(timeout=20) as client:
        statuses = _within_one_window(
            lambda: _alternate(
                [
                    lambda: client.get(f"{a}/api/artifacts/").status_code,
                    lambda: client.get(f"{b}/api/artifacts/").status_code,
                ],
                rounds=4,
            )
        )
    assert statuses == [200] * 6 + [429] * 2


def test_admin_login_lockout_is_shared_by_two_processes_through_redis(
    two_servers, redis_env, staff_user
):
    a, b = two_servers({**redis_env, "ARTIFACTS_LOGIN_MAX_FAILURES": "2"})
    with httpx.Client(timeout=20) as client:
        assert admin_login(client, a, "staff", "wrong").status_code == 200
        assert admin_login(client, b, "staff", "wrong").status_code == 200
        locked = admin_login(client, a, "staff", "pw-staff-123")
        assert locked.status_code == 429
        assert admin_login(client, b, "staff", "pw-staff-123").status_code == 429
