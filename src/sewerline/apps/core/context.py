"""Template context: what the signed-in user may do, for menus and buttons."""

from sewerline.apps.core.roles import Capability, has_capability


def roles(request):
    user = getattr(request, "user", None)
    return {"can": {cap.value: has_capability(user, cap) for cap in Capability}}
