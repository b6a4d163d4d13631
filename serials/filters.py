"""One FilterSet per list, shared by the pages and the API."""

import django_filters

from portal.ids import IdFilter
from serials.models import SerialException, SerialList


class SerialListFilter(django_filters.FilterSet):
    class Meta:
        model = SerialList
        fields = ["kind", "status"]


class ExceptionFilter(django_filters.FilterSet):
    # A plain number, not a model choice: a choice field would check ids against every list
    # in the database and tell a foreign id (empty answer) from a missing one (400).
    serial_list = IdFilter(field_name="serial_list_id")

    class Meta:
        model = SerialException
        fields = ["kind", "status", "serial_list"]
