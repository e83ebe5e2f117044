import factory

from artifacts_app import services
from artifacts_app.models import Artifact


class ArtifactFactory(factory.Factory):
    """Builds artifacts through the service layer, so collections stay right."""

    class Meta:
        model = Artifact

    key = factory.Sequence(lambda n: f"artifact-{n}")
    type = "markdown"
    data = factory.Sequence(lambda n: f"# Report {n}")
    description = None
    metadata = None
    flow_run_id = None
    task_run_id = None

    class Params:
        progress = factory.Trait(type="progress", data=0.0)
        table = factory.Trait(type="table", data='[{"a": 1, "b": 2}, {"a": 3, "b": 4}]')
        image = factory.Trait(type="image", data="https://example.com/a.png")
        link = factory.Trait(type="markdown", data="[Docs](https://example.com/docs)")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.artifact_create(**kwargs)
