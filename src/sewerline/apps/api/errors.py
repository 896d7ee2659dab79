"""Error bodies of the API: input problems, conflicts and oversized uploads.

Validation errors keep DRF's shape ({"field": ["message"]}). Everything else the API
rejects carries a `detail` sentence, and problems found in an uploaded file are listed
with the same fields as the engine's Problem, so a client can point at the row or line.
"""

from __future__ import annotations

from dataclasses import asdict

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from sewerline.engine.errors import InputError


class UploadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "upload_too_large"


class Conflict(APIException):
    """The request is valid but contradicts the object's current state."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def input_error_response(error: InputError, subject: str) -> Response:
    """Build the 400 response that lists every problem of an uploaded file.

    `subject` names what was checked, e.g. "the rate file", for the summary sentence.
    """
    count = len(error.problems)
    found = "1 problem; fix it" if count == 1 else f"{count} problems; fix them"
    body = {
        "detail": f"{subject} has {found} and upload it again.",
        "problems": [asdict(problem) for problem in error.problems],
        "truncated": error.truncated,
    }
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


def check_upload_size(uploaded_file) -> None:
    """Raise UploadTooLarge when a file is larger than settings.UPLOAD_MAX_BYTES."""
    limit = settings.UPLOAD_MAX_BYTES
    if uploaded_file.size > limit:
        raise UploadTooLarge(
            f"The file is {uploaded_file.size} bytes; the largest accepted upload is "
            f"{limit} bytes (SEWERLINE_UPLOAD_MAX_MB)."
        )
