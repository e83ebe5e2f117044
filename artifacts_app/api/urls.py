from django.http import JsonResponse
from django.urls import path


def health(request):
    return JsonResponse(True, safe=False)


urlpatterns = [
    path("health", health, name="health"),
]
