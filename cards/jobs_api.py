"""Generation jobs over the API: start, follow, cancel, download."""


from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from campaignid.files import file_response
from campaigns.access import Need, access_required, campaign_for, object_for
from campaigns.models import Job
from campaigns.services import QuotaExceeded
from cards import generation
from cards.serializers import JobCreateInput, JobList, JobOutput

ARTIFACT_TYPES = {
    "pdf": "application/pdf",
    "zip": "application/zip",
    "portal": "application/zip",
    "manifest": "application/json",
}


def scoped_job(request, pk, need):
    return object_for(access_required(request), Job.objects.all(), need, pk=pk)


class CampaignJobsView(APIView):
    @extend_schema(
        request=JobCreateInput,
        responses={202: JobOutput, 400: OpenApiResponse(description="bad input or quota"),
                   409: OpenApiResponse(description="a job is already running")},
        summary="Generate cards for those without a valid card, or reissue some",
    )
    def post(self, request, pk):
        campaign = campaign_for(access_required(request), pk, Need.WRITE)
        data = JobCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            job = generation.job_create(
                campaign=campaign,
                user=request.user,
                dpi=data.validated_data.get("dpi"),
                include_mpi_id=data.validated_data.get("include_mpi_id"),
                beneficiary_ids=data.validated_data.get("beneficiaries"),
                reissue=data.validated_data["reissue"],
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

    @extend_schema(responses=JobList, summary="A campaign's generation jobs")
    def get(self, request, pk):
        campaign = campaign_for(access_required(request), pk, Need.READ)
        jobs = campaign.jobs.prefetch_related("ledger").order_by("-created_at")[:50]
        return Response({"data": JobOutput(jobs, many=True).data})


class JobDetailView(APIView):
    @extend_schema(responses=JobOutput, summary="A generation job's state")
    def get(self, request, pk):
        # Status and counts name nobody: the campaign's own record.
        return Response(JobOutput(scoped_job(request, pk, Need.READ)).data)


class JobCancelView(APIView):
    @extend_schema(request=None, responses={200: JobOutput, 409: OpenApiResponse()},
                   summary="Cancel a job that has not ended; its quota is refunded")
    def post(self, request, pk):
        job = scoped_job(request, pk, Need.WRITE)
        if job.is_final:
            return Response(
                {"error": _("The job has already ended (%(status)s).") % {"status": job.status}},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(JobOutput(generation.job_cancel(job=job)).data)


class JobDownloadView(APIView):
    @extend_schema(parameters=[OpenApiParameter("artifact", OpenApiTypes.STR, OpenApiParameter.PATH,
                                                enum=sorted(ARTIFACT_TYPES))],
                   responses={(200, "application/pdf"): OpenApiTypes.BINARY,
                              (200, "application/zip"): OpenApiTypes.BINARY,
                              (200, "application/json"): OpenApiTypes.OBJECT,  # the manifest
                              403: OpenApiResponse(description="a sensitive campaign and no "
                                                   "\u201ccan view sensitive\u201d grant"),
                              404: OpenApiResponse(description="not this program's job, or "
                                                   "its campaign was deleted"),
                              409: OpenApiResponse(description="not completed yet")},
                   summary="Download an artifact: pdf, zip, portal or manifest")
    def get(self, request, pk, artifact):
        # Every artifact names or reaches the card holders (the manifest lists their names).
        job = scoped_job(request, pk, Need.PEOPLE)
        if job.status != Job.Status.COMPLETED:
            return Response(
                {"error": _("The job is %(status)s; artifacts are ready once it completes.")
                 % {"status": job.status}},
                status=status.HTTP_409_CONFLICT,
            )
        field = getattr(job, artifact)
        if not field:
            raise NotFound(_("This job has no %(artifact)s artifact.") % {"artifact": artifact})
        return file_response(field, content_type=ARTIFACT_TYPES[artifact])
