"""State changes for numbering rules, serial lists and exceptions, one module per job:

- ``rules``: the buyer's numbering rules;
- ``allocations``: the ranges and code lists the buyer allocates to an order or batch;
- ``serial_lists``: a serial list's upload, queued for the worker;
- ``check``: a file checked as an upload would be, without keeping anything;
- ``job``: the worker's job (claim, heartbeat, validate, fail, requeue);
- ``registry``: the runs, codes and placements a validated list writes, and the reuse checks;
- ``exceptions``: serial exceptions recorded from a report, and a batch's serials accepted;
- ``answers``: the supplier's answers (with attachments) and the buyer's decisions, many rows at
  once;
- ``files``: what an uploaded list may be, and a local path for stored bytes;
- ``life``: a serial's life events (returned, destroyed, decommissioned) and the check that
  names destroyed serials before acceptance.

Reads are in ``serials.selectors``. Import services from here: ``from serials import services``.
"""

# Reads kept importable from here for the importers not yet moved to serials.selectors.
from serials.selectors import batch_serial_status, current_exceptions, latest_production_list
from serials.services.allocations import allocated_code_list_upload, allocated_range_set
from serials.services.answers import (
    AnswerRow,
    DecisionRow,
    exception_answer,
    exception_decide,
    exceptions_answer,
    exceptions_decide,
)
from serials.services.check import serial_list_check
from serials.services.exceptions import batch_serials_accept
from serials.services.files import _local_copy
from serials.services.job import serial_list_validate, serial_lists_requeue_stuck
from serials.services.life import (
    can_record_life_state,
    life_span_read,
    life_states_for,
    serial_life_record,
)
from serials.services.rules import numbering_rule_save
from serials.services.serial_lists import serial_list_upload

__all__ = [
    "AnswerRow",
    "DecisionRow",
    "_local_copy",
    "allocated_code_list_upload",
    "allocated_range_set",
    "batch_serial_status",
    "batch_serials_accept",
    "can_record_life_state",
    "current_exceptions",
    "exception_answer",
    "exception_decide",
    "exceptions_answer",
    "exceptions_decide",
    "latest_production_list",
    "life_span_read",
    "life_states_for",
    "numbering_rule_save",
    "serial_list_check",
    "serial_list_upload",
    "serial_life_record",
    "serial_list_validate",
    "serial_lists_requeue_stuck",
]
