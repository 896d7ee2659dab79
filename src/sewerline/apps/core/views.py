"""Pages that belong to no single domain: the home page and the health check."""

from django.http import JsonResponse
from django.views.generic import TemplateView

from sewerline.apps.core.permissions import CapabilityRequiredMixin


class HomeView(CapabilityRequiredMixin, TemplateView):
    template_name = "core/home.html"


def health(request):
    """Answer 200 without login, for load balancers and the test server's start-up."""
    return JsonResponse({"status": "ok"})
