"""API of imports: list them, see one with its problems, upload a file and queue it."""

from __future__ import annotations

import logging

from django.db.models import CharField, OuterRef, Subquery
from django.db.models.functions import Cast
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from sewerline.apps.api import inputs, serializers
from sewerline.apps.api.base import ApiViewSet
from sewerline.apps.api.errors import Conflict, check_upload_size, input_error_response
from sewerline.apps.api.schema import VALIDATION_ERROR
from sewerline.apps.core.roles import Capability
from sewerline.apps.imports.models import ImportBatch
from sewerline.apps.jobs.models import Job
from sewerline.engine.errors import InputError

logger = logging.getLogger(__name__)

# Jobs name the object they work on by model label and primary key (as text).
IMPORT_OBJECT_TYPE = ImportBatch._meta.label_lower


def latest_job_id():
    """Return a subquery of the newest job whose object is the outer import batch."""
    jobs = Job.objects.filter(
        object_type=IMPORT_OBJECT_TYPE,
        object_id=Cast(OuterRef("pk"), output_field=CharField()),
    ).order_by("-created_at", "-pk")
    return Subquery(jobs.values("pk")[:1])


@extend_schema_view(
    list=extend_schema(parameters=[inputs.ImportFilter]),
    create=extend_schema(
        request={"multipart/form-data": inputs.ImportUploadSerializer},
        responses={
            202: serializers.ImportBatchDetailSerializer,
            400: VALIDATION_ERROR,
            409: OpenApiResponse(serializers.ErrorSerializer,
                                 description="The same file was imported before; send "
                                 "force=true to import it again."),
            413: OpenApiResponse(serializers.ErrorSerializer,
                                 description="The file is larger than the upload limit."),
        },
    ),
)
class ImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Imported billing exports and profile files, newest first."""

    filter_serializer = inputs.ImportFilter
    write_capability = Capability.IMPORT_DATA
    parser_classes = [MultiPartParser]

    def get_queryset(self):
        batches = ImportBatch.objects.select_related("created_by").annotate(
            job_id=latest_job_id()).order_by("-created_at", "-pk")
        if self.action == "list":
            # The list leaves out the mapping text; it still loads the problem lists,
            # because it shows their lengths.
            batches = batches.defer("mapping_text")
        filters = self.list_filters()
        for name in ("entity", "cycle"):
            if name in filters:
                batches = batches.filter(**{f"{name}_id": filters[name]})
        for name in ("kind", "status"):
            if name in filters:
                batches = batches.filter(**{name: filters[name]})
        return batches

    def get_serializer_class(self):
        if self.action == "list":
            return serializers.ImportBatchSerializer
        return serializers.ImportBatchDetailSerializer

    def create(self, request):
        """Store the uploaded file and queue its import as a background job."""
        upload = inputs.ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        values = upload.validated_data
        check_upload_size(values["file"])

        from sewerline.apps.imports.actions import DuplicateImport, create_import
        from sewerline.apps.jobs import runner

        try:
            batch = create_import(
                request.user, kind=values["kind"], entity=values["entity"],
                cycle=values.get("cycle"), uploaded_file=values["file"],
                mapping_text=values["mapping_text"], force=values["force"],
            )
        except DuplicateImport as error:
            raise Conflict(str(error)) from error
        except InputError as error:
            return input_error_response(error, "The upload")

        job = runner.submit(
            "import", "sewerline.apps.imports.actions.run_import", actor=request.user,
            object_type=IMPORT_OBJECT_TYPE, object_id=str(batch.pk), batch_id=batch.pk,
        )
        logger.info("API: import batch %s queued as job %s by user %s",
                    batch.pk, job.pk, request.user.pk)
        stored = self.get_queryset().get(pk=batch.pk)
        return Response(serializers.ImportBatchDetailSerializer(stored).data,
                        status=status.HTTP_202_ACCEPTED)
