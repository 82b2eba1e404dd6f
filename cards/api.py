"""Generation jobs over the API: start, follow, cancel, download."""

from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.access import access_for_request
from campaigns.models import Campaign, Job
from campaigns.services import QuotaExceeded
from cards import generation
from cards.serializers import JobCreateInput, JobOutput

ARTIFACT_TYPES = {
    "pdf": "application/pdf",
    "zip": "application/zip",
    "portal": "application/zip",
    "manifest": "application/json",
}


def scoped_job(request, pk):
    access = access_for_request(request)
    return get_object_or_404(
        Job.objects.for_program(access.program).select_related("campaign"), pk=pk
    )


class CampaignJobsView(APIView):
    @extend_schema(
        request=JobCreateInput,
        responses={202: JobOutput, 400: OpenApiResponse(description="bad input or quota"),
                   409: OpenApiResponse(description="a job is already running")},
        summary="Generate cards for a campaign's beneficiaries",
    )
    def post(self, request, pk):
        access = access_for_request(request)
        campaign = get_object_or_404(Campaign.objects.for_program(access.program).alive(), pk=pk)
        if not generation.can_generate_for(access=access, campaign=campaign):
            raise PermissionDenied("This campaign holds sensitive data you are not allowed to see.")
        data = JobCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            job = generation.job_create(
                campaign=campaign,
                user=request.user,
                dpi=data.validated_data.get("dpi"),
                include_mpi_id=data.validated_data["include_mpi_id"],
                beneficiary_ids=data.validated_data.get("beneficiaries"),
            )
        except QuotaExceeded as exc:
            return Response(
                {"error": str(exc), "fields": {"quota": [str(exc)]},
                 "needed": exc.needed, "available": exc.available},
                status=status.HTTP_400_BAD_REQUEST,
            )
        except generation.JobConflict as exc:
            return Response({"error": str(exc)}, status=status.HTTP_409_CONFLICT)
        except ValidationError as exc:
            fields = exc.message_dict
            first = next(iter(fields.items()))
            return Response({"error": f"{first[0]}: {first[1][0]}", "fields": fields}, status=400)
        return Response(JobOutput(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=JobOutput(many=True), summary="A campaign's generation jobs")
    def get(self, request, pk):
        access = access_for_request(request)
        campaign = get_object_or_404(Campaign.objects.for_program(access.program), pk=pk)
        jobs = campaign.jobs.prefetch_related("ledger").order_by("-created_at")[:50]
        return Response({"data": JobOutput(jobs, many=True).data})


class JobDetailView(APIView):
    @extend_schema(responses=JobOutput, summary="A generation job's state")
    def get(self, request, pk):
        return Response(JobOutput(scoped_job(request, pk)).data)


class JobCancelView(APIView):
    @extend_schema(request=None, responses={200: JobOutput, 409: OpenApiResponse()},
                   summary="Cancel a job that has not ended; its quota is refunded")
    def post(self, request, pk):
        job = scoped_job(request, pk)
        if job.is_final:
            return Response({"error": f"The job has already ended ({job.status})."}, status=409)
        return Response(JobOutput(generation.job_cancel(job=job)).data)


class JobDownloadView(APIView):
    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY,
                              409: OpenApiResponse(description="not completed yet")},
                   summary="Download an artifact: pdf, zip, portal or manifest")
    def get(self, request, pk, artifact):
        job = scoped_job(request, pk)
        if job.status != Job.Status.COMPLETED:
            return Response(
                {"error": f"The job is {job.status}; artifacts are ready once it completes."},
                status=status.HTTP_409_CONFLICT,
            )
        field = getattr(job, artifact)
        if not field:
            return Response({"error": f"This job has no {artifact} artifact."}, status=404)
        filename = field.name.rsplit("/", 1)[-1]
        return FileResponse(field.open("rb"), as_attachment=True, filename=filename,
                            content_type=ARTIFACT_TYPES[artifact])
