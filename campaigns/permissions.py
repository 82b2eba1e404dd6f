from rest_framework import permissions

from campaigns.access import access_for_request


class IsProgramMember(permissions.BasePermission):
    """Any member reads; only admins and operators change anything."""

    message = "You do not have permission to change this program's data."

    def has_permission(self, request, view):
        access = access_for_request(request)
        if access is None:
            return False
        return request.method in permissions.SAFE_METHODS or access.can_write


class IsProgramAdmin(permissions.BasePermission):
    message = "Only a program admin can do this."

    def has_permission(self, request, view):
        access = access_for_request(request)
        return access is not None and access.is_admin
