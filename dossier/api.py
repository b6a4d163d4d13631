"""The EPCIS 2.0 export in the API: ``GET /api/batches/{id}/epcis/``, the twin of the batch
page's download (``dossier.epcis_views``)."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from dossier.epcis import MEDIA_TYPE
from dossier.epcis_views import epcis_batch_for, epcis_download
from portal.api_schema import ERROR
from portal.typing import AuthenticatedAPIRequest


class JsonLdRenderer(JSONRenderer):
    media_type = MEDIA_TYPE
    format = "jsonld"


class BatchEpcis(APIView):
    # Refusals answer in JSON; the document itself is written once, as JSON-LD bytes.
    renderer_classes = [JSONRenderer, JsonLdRenderer]

    @extend_schema(
        operation_id="batch_epcis",
        summary="The batch's EPCIS 2.0 document",
        description=(
            "An EPCIS 2.0 JSON-LD EPCISDocument: commissioning of the accepted serials (SGTIN "
            "URIs), packing into cartons, shipping to customers; each event names the purchase "
            "order and the signed approval (id and manifest SHA-256) and carries its CBV 2.0 "
            "event hash as eventID. The buyer's staff only."
        ),
        responses={
            (200, MEDIA_TYPE): OpenApiTypes.OBJECT,
            409: OpenApiResponse(
                response=ERROR.ref,
                description=(
                    "The batch cannot be written yet: a SKU product, no GS1 Company Prefix "
                    "length on its numbering rule, no accepted serials or no signed approval "
                    "(the message says which)."
                ),
            ),
        },
    )
    def get(self, request: AuthenticatedAPIRequest, pk: int) -> HttpResponse:
        return epcis_download(user=request.user, batch=epcis_batch_for(request.user, pk))

    def handle_exception(self, exc: Exception) -> Response:
        """A refusal is a JSON error, whichever of the two media types was asked for."""
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response


urlpatterns = [
    path("batches/<int:pk>/epcis/", BatchEpcis.as_view(), name="api-batch-epcis"),
]
