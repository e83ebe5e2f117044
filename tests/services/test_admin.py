import pytest

from artifacts_app.models import Artifact
from tests.factories import ArtifactFactory

pytestmark = pytest.mark.django_db


def test_admin_list_and_change_page_render(client, staff_user):
    client.force_login(staff_user)
    artifact = ArtifactFactory(key="admin-check", table=True, description="Tabular")
    listing = client.get("/admin/artifacts_app/artifact/?q=admin-check")
    assert listing.status_code == 200
    assert b"admin-check" in listing.content
    change = client.get(f"/admin/artifacts_app/artifact/{artifact.pk}/change/")
    assert change.status_code == 200
    assert b"<table" in change.content


def test_admin_delete_goes_through_service(client, staff_user):
    client.force_login(staff_user)
    first = ArtifactFactory(key="adm")
    second = ArtifactFactory(key="adm")
    response = client.post(f"/admin/artifacts_app/artifact/{second.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert list(Artifact.objects.for_key("adm")) == [first]
    from artifacts_app.models import ArtifactCollection

    assert ArtifactCollection.objects.get(key="adm").latest_id == first.pk


def test_admin_collections_are_read_only(client, staff_user):
    client.force_login(staff_user)
    ArtifactFactory(key="ro")
    page = client.get("/admin/artifacts_app/artifactcollection/add/")
    assert page.status_code == 403


def test_runs_are_listed_read_only(client, staff_user):
    import uuid

    from artifacts_app import services as run_services

    run_id = uuid.UUID("0190f1e4-0000-7000-8000-00000000abcd")
    run_services.run_upsert(
        runs=[{"id": run_id, "kind": "flow", "name": "crimson-tiger", "flow_name": "etl"}]
    )
    client.force_login(staff_user)
    listing = client.get("/admin/artifacts_app/run/?q=crimson").content.decode()
    assert "crimson-tiger" in listing
    assert "0190f1e4…abcd" in listing
    assert client.get("/admin/artifacts_app/run/add/").status_code == 403
    assert client.get(f"/admin/artifacts_app/run/{run_id}/delete/").status_code == 403


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("description", "a\x00b"),
        ("data", '{"a": "\\u0000"}'),
        ("data", "NaN"),
        ("metadata", '{"n": 1}'),
        ("key", "Bad Key"),
    ],
)
def test_admin_form_refuses_what_services_refuse(client, staff_user, field, value):
    """The admin shows the error on its form (never a 500) and writes nothing."""
    client.force_login(staff_user)
    form = {"key": "from-admin", "type": "markdown", "description": "", "data": '"# x"'}
    form["metadata"] = "null"
    form[field] = value
    response = client.post("/admin/artifacts_app/artifact/add/", form)
    assert response.status_code == 200, response.status_code
    assert b"errorlist" in response.content
    assert not Artifact.objects.exists()
