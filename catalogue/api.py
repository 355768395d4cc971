"""Catalogue API (staff only): versions, listings of active versions, and the upload that starts an import."""

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsStaffRole

from . import selectors, services
from .ingest.errors import DuplicateImport, IngestRejected
from .serializers import (
    CatalogueUploadSerializer,
    CatalogueVersionDetailSerializer,
    CatalogueVersionSerializer,
    ListingSerializer,
)


@extend_schema_view(get=extend_schema(summary=_("目录版本列表（含导入状态）")))
class VersionList(generics.ListAPIView):
    permission_classes = [IsStaffRole]
    serializer_class = CatalogueVersionSerializer

    def get_queryset(self) -> QuerySet:
        return selectors.versions_for_staff()


@extend_schema_view(get=extend_schema(summary=_("目录版本详情（含警告与错误）")))
class VersionDetail(generics.RetrieveAPIView):
    permission_classes = [IsStaffRole]
    serializer_class = CatalogueVersionDetailSerializer

    def get_queryset(self) -> QuerySet:
        return selectors.versions_for_staff()


LISTING_FILTERS = [
    OpenApiParameter("version", int, description=_("目录版本 ID")),
    OpenApiParameter("q", str, description=_("通用名 / 挂网编号 / 企业 搜索")),
    OpenApiParameter("generic_name", str, description=_("规范化通用名（精确）")),
    OpenApiParameter("manufacturer", str, description=_("生产企业（包含）")),
    OpenApiParameter("form_group", str, description=_("剂型组")),
    OpenApiParameter("tier_class", str, description=_("质量层次类别：参比/过评/新药/未过评")),
    OpenApiParameter("is_active", bool, description=_("是否挂网")),
]


@extend_schema_view(get=extend_schema(summary=_("挂网药品（仅已生效目录）"), parameters=LISTING_FILTERS))
class ListingList(generics.ListAPIView):
    permission_classes = [IsStaffRole]
    serializer_class = ListingSerializer
    filter_backends: list = []

    def get_queryset(self) -> QuerySet:
        p = self.request.query_params
        version = p.get("version")
        active = p.get("is_active")
        return selectors.active_listings(
            int(version) if version and version.isdigit() else None,
            q=p.get("q", ""),
            generic_name=p.get("generic_name", ""),
            manufacturer=p.get("manufacturer", ""),
            form_group=p.get("form_group", ""),
            tier_class=p.get("tier_class", ""),
            is_active=None if active in (None, "") else active.lower() in ("1", "true", "yes"),
        )


class VersionUpload(APIView):
    permission_classes = [IsStaffRole]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary=_("上传目录文件并开始导入"),
        request={"multipart/form-data": CatalogueUploadSerializer},
        responses={202: CatalogueVersionSerializer, 400: None, 409: None},
    )
    def post(self, request: Request) -> Response:
        serializer = CatalogueUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            version = services.start_catalogue_import(
                data["file"], province=data["province"], label=data.get("label", ""), user=request.user
            )
        except DuplicateImport as exc:
            return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
        except IngestRejected as exc:
            return Response({"detail": exc.message}, status=status.HTTP_400_BAD_REQUEST)
        version.refresh_from_db()
        return Response(CatalogueVersionSerializer(version).data, status=status.HTTP_202_ACCEPTED)
