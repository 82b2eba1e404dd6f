from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.access import access_for_request
from campaigns.services import quota_balance


class MeView(APIView):
    """Who the caller acts as: program, role, quota balance."""

    def get(self, request):
        access = access_for_request(request)
        return Response(
            {
                "program": {"id": access.program.pk, "slug": access.program.slug,
                            "name": access.program.name},
                "role": access.role,
                "can_view_sensitive": access.can_view_sensitive,
                "quota_balance": quota_balance(program=access.program),
            }
        )
