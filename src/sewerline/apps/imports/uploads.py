"""Stop an upload as soon as it passes settings.UPLOAD_MAX_BYTES, before it fills the disk.

Django writes an uploaded file to a temporary file while it reads the request. This
handler, put first in the request's upload handlers, stops the file once it passes
the limit: the rest of the request body is read and thrown away, and the view finds
`request.upload_too_large` set and no file.
"""

from __future__ import annotations

import logging

from django.core.files.uploadhandler import FileUploadHandler, StopUpload

logger = logging.getLogger(__name__)

# Room for the form's other fields and the multipart boundaries around the file.
FORM_OVERHEAD_BYTES = 64 * 1024


class SizeLimitUploadHandler(FileUploadHandler):
    """Upload handler that stops a file larger than `limit` bytes."""

    def __init__(self, request, limit: int):
        super().__init__(request)
        self.limit = limit
        self.received = 0
        request.upload_too_large = False

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.request.upload_too_large = True
            logger.info("upload stopped after %d bytes, over the limit of %d",
                        self.received, self.limit)
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        # The next handlers (memory or temporary file) build the uploaded file.
        return None


def content_too_large(request, limit: int) -> bool:
    """Return whether the request announces a body too large for a file within the limit."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > limit + FORM_OVERHEAD_BYTES


def megabytes(size: int) -> str:
    """Format a size in MB with at most two decimals: 200, 1.5 or 0.01."""
    return f"{size / (1024 * 1024):,.2f}".rstrip("0").rstrip(".")
