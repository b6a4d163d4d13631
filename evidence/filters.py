"""One FilterSet per list, shared by the pages and the API."""

import django_filters

from evidence.models import EvidenceItem


class EvidenceFilter(django_filters.FilterSet):
    class Meta:
        model = EvidenceItem
        fields = ["kind"]
