from campaigns.access import access_for_request


def current_program(request):
    access = access_for_request(request) if hasattr(request, "user") else None
    return {"access": access, "current_program": access.program if access else None}
