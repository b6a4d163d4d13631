"""The order timeline's registry: how each audit event reads as a sentence a person understands.

The timeline page belongs to the orders app, but most events are written by apps above it
(serials, evidence, inspection, approvals, dossier). Each app registers, in its
``AppConfig.ready()`` (from its ``sentences`` module), one ``sentence_register(action, kind=…,
render=…)`` per action it writes: ``render(event)`` returns the sentence as plain text (the
template escapes it). An action ending in "." is a prefix ("admin." covers every admin action).
An event whose action has no sentence still reads: the humanised action and its object.

An app also says how the objects its events name belong to a batch
(``batch_link_register("serials.SerialList", "batch")``), so the timeline can be narrowed to one
batch without knowing the upper apps' models.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import CharField, Model, Q
from django.db.models.functions import Cast
from django.template.defaultfilters import filesizeformat
from django.utils import formats
from django.utils.dateparse import parse_date
from django.utils.functional import Promise
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.models import AuditEvent


@dataclass(frozen=True)
class EventKind:
    """A family of events, offered as a filter: its key in URLs, its label and its icon."""

    key: str
    label: Promise | str
    icon: str  # a bootstrap-icons name


# The families, in the order the filter offers them.
KINDS: dict[str, EventKind] = {
    kind.key: kind
    for kind in (
        EventKind("orders", gettext_lazy("Orders and batches"), "box-seam"),
        EventKind("serials", gettext_lazy("Serial lists"), "upc-scan"),
        EventKind("exceptions", gettext_lazy("Exceptions"), "exclamation-diamond"),
        EventKind("evidence", gettext_lazy("Evidence and statements"), "images"),
        EventKind("approvals", gettext_lazy("Approvals"), "patch-check"),
        EventKind("money", gettext_lazy("Gates and payments"), "cash-coin"),
        EventKind("inspection", gettext_lazy("Inspection"), "clipboard-check"),
        EventKind("dossier", gettext_lazy("Dossier"), "file-earmark-zip"),
        EventKind("accounts", gettext_lazy("Accounts and settings"), "person-gear"),
    )
}
OTHER_KIND = EventKind("other", gettext_lazy("Other"), "record-circle")

Render = Callable[[AuditEvent], str]
# One sentence for a run of events of one action by one person (newest first): "Marco Rossi
# checked 12 units: 12 labels match, 1 defective".
Summarise = Callable[[list[AuditEvent]], str]


@dataclass(frozen=True)
class Sentence:
    """How the events of one action (or of every action with a prefix) read."""

    action: str
    kind: EventKind
    render: Render
    # "danger" or "warning" for events a reader should not miss (a failure, a stale approval).
    tone: str = ""
    summarise: Summarise | None = None


_sentences: dict[str, Sentence] = {}
_batch_links: dict[str, str] = {}


def sentence_register(
    action: str, *, kind: str, render: Render, tone: str = "", summarise: Summarise | None = None
) -> None:
    """Say how events of ``action`` read, and, with ``summarise``, how a run of them by one
    person reads; an action ending in "." covers every action with that prefix. Registering
    one action twice is a mistake, as is an unknown kind."""
    if action in _sentences:
        raise RuntimeError(f"The timeline sentence of “{action}” is registered twice.")
    if kind not in KINDS:
        raise RuntimeError(f"“{kind}” is not a timeline kind: {', '.join(KINDS)}.")
    _sentences[action] = Sentence(
        action=action, kind=KINDS[kind], render=render, tone=tone, summarise=summarise
    )


def batch_link_register(object_type: str, lookup: str) -> None:
    """Events naming an object of ``object_type`` (a model label) belong to the batch reached
    by ``lookup`` from it ("batch", "gate__batch", …; "pk" for the batch itself)."""
    _batch_links[object_type] = lookup


def registered_actions() -> set[str]:
    """Every action and prefix that has a sentence."""
    return set(_sentences)


def sentence_for(action: str) -> Sentence | None:
    """The sentence of ``action``: its own, else that of its longest registered prefix."""
    if action in _sentences:
        return _sentences[action]
    prefixes = [key for key in _sentences if key.endswith(".") and action.startswith(key)]
    return _sentences[max(prefixes, key=len)] if prefixes else None


def kind_filter(kind: str) -> Q:
    """The events of one family, as a filter on AuditEvent."""
    query = Q(pk__in=[])
    for key, sentence in _sentences.items():
        if sentence.kind.key == kind:
            query |= Q(action__startswith=key) if key.endswith(".") else Q(action=key)
    return query


def batch_filter(batch: Model) -> Q:
    """The events naming the batch, or an object registered as belonging to it."""
    query = Q(pk__in=[])
    for object_type, lookup in _batch_links.items():
        model = apps.get_model(object_type)
        ids = (
            model._default_manager.filter(**{lookup: batch.pk})
            .annotate(id_text=Cast("pk", output_field=CharField()))
            .values("id_text")
        )
        query |= Q(object_type=object_type, object_id__in=ids)
    return query


# ---------------------------------------------------------------- reading one event


@dataclass(frozen=True)
class TimelineEntry:
    """One event as the timeline shows it: the sentence, its family, and the raw record."""

    event: AuditEvent
    sentence: str
    kind: EventKind
    tone: str
    day: datetime.date

    @property
    def payload_json(self) -> str:
        return json.dumps(
            self.event.payload, indent=2, sort_keys=True, ensure_ascii=False, cls=DjangoJSONEncoder
        )


def timeline_entry(event: AuditEvent, day: datetime.date) -> TimelineEntry:
    sentence = sentence_for(event.action)
    text = ""
    if sentence is not None:
        try:
            text = sentence.render(event)
        except (KeyError, TypeError, ValueError, AttributeError, LookupError):
            # An event written by an older version may lack a key the sentence reads: it
            # still shows, in the plain form below, and its raw payload is one click away.
            text = ""
    return TimelineEntry(
        event=event,
        sentence=text or fallback_sentence(event),
        kind=sentence.kind if sentence is not None else OTHER_KIND,
        tone=sentence.tone if sentence is not None and text else "",
        day=day,
    )


def fallback_sentence(event: AuditEvent) -> str:
    """An action without a sentence: who, the action in words, and its object."""
    what = event.action.replace(".", " ").replace("_", " ").strip().capitalize()
    return _("%(actor)s: %(action)s — %(object)s") % {
        "actor": actor(event),
        "action": what,
        "object": event.object_label or f"{event.object_type} #{event.object_id}",
    }


@dataclass(frozen=True)
class TimelineRun:
    """Events of one action by one person in a row, shown as one line: the run's summary (or
    its newest sentence) with the others folded under it. A single event is a run of one."""

    entries: list[TimelineEntry]
    summary: str = ""

    @property
    def lead(self) -> TimelineEntry:
        return self.entries[0]

    @property
    def folded(self) -> list[TimelineEntry]:
        """What the fold holds: every event under a summary, else all but the lead."""
        return self.entries if self.summary else self.entries[1:]

    @property
    def started(self) -> datetime.datetime:
        return self.entries[-1].event.created_at


# A run folds from this many events; with a summary (a bulk answer, a round of label checks),
# from two. Below it, a few alike events read better one by one.
RUN_WITHOUT_SUMMARY = 4


def timeline_runs(entries: list[TimelineEntry]) -> list[TimelineRun]:
    """Consecutive entries of one action by one person on one day, folded into runs."""
    groups: list[list[TimelineEntry]] = []
    for entry in entries:
        last = groups[-1][-1] if groups else None
        if last is not None and _same_run(last, entry):
            groups[-1].append(entry)
        else:
            groups.append([entry])
    runs: list[TimelineRun] = []
    for group in groups:
        sentence = sentence_for(group[0].event.action)
        summary = ""
        if len(group) >= 2 and sentence is not None and sentence.summarise is not None:
            try:
                summary = sentence.summarise([entry.event for entry in group])
            except (KeyError, TypeError, ValueError, AttributeError, LookupError):
                summary = ""
        if summary or len(group) >= RUN_WITHOUT_SUMMARY:
            runs.append(TimelineRun(entries=group, summary=summary))
        else:
            runs.extend(TimelineRun(entries=[entry]) for entry in group)
    return runs


def _same_run(one: TimelineEntry, other: TimelineEntry) -> bool:
    a, b = one.event, other.event
    return (a.action, a.actor_id, a.actor_label, one.day) == (
        b.action,
        b.actor_id,
        b.actor_label,
        other.day,
    )


# ---------------------------------------------------------------- helpers for the sentences


def actor(event: AuditEvent) -> str:
    """Who did it, by full name (else user name); the portal itself for automatic steps."""
    if event.actor_id is not None and event.actor is not None:
        return event.actor.printed_name
    if event.actor_label and event.actor_label != "system":
        return event.actor_label
    return _("The portal")


def value(event: AuditEvent, key: str, default: Any = None) -> Any:
    return event.payload.get(key, default) if isinstance(event.payload, dict) else default


def number(amount: Any) -> str:
    """A whole number with the reader's thousands separator: 5991 → "5,991"."""
    return formats.number_format(int(amount), force_grouping=True)


def money(amount: Any, currency: str) -> str:
    """ "18000.00", "USD" → "USD 18,000.00"."""
    try:
        decimal = Decimal(str(amount))
    except InvalidOperation:
        return f"{currency} {amount}"
    return f"{currency} {formats.number_format(decimal, decimal_pos=2, force_grouping=True)}"


def size(amount: Any) -> str:
    return str(filesizeformat(int(amount)))


def _is_date(text: str) -> bool:
    try:
        return parse_date(text) is not None
    except ValueError:
        return False


def day(text: Any) -> str:
    """An ISO date from a payload, in the reader's format."""
    parsed = parse_date(str(text)) if text and _is_date(str(text)) else None
    if parsed is None:
        return str(text or "—")
    return formats.date_format(parsed, "DATE_FORMAT")


def quoted(text: Any, limit: int = 160) -> str:
    """The person's own words, quoted and cut to a line or two."""
    return "“" + Truncator(str(text).strip()).chars(limit) + "”"


def shown(item: Any, labels: dict[str, str] | None = None) -> str:
    """One payload value in words: yes/no, grouped numbers, lists joined, empty as a dash."""
    if item is None or item == "" or item == []:
        return "—"
    if isinstance(item, bool):
        return _("yes") if item else _("no")
    if isinstance(item, int):
        return number(item)
    if isinstance(item, list):
        return ", ".join(shown(part, labels) for part in item)
    text = str(item)
    if labels and text in labels:
        return str(labels[text])
    if len(text) == 10 and _is_date(text):
        return day(text)
    return Truncator(text).chars(80)


def changes(event: AuditEvent, model: type[Model]) -> str:
    """A "{field: [old, new]}" payload in words, in the model's field order: "quantity
    1,000 → 900; declared first serial set to VLT000100001"."""
    order = {field.name: index for index, field in enumerate(model._meta.get_fields())}
    pairs = [
        (name, pair)
        for name, pair in event.payload.items()
        if isinstance(pair, list) and len(pair) == 2
    ]
    parts = []
    for field_name, (old, new) in sorted(pairs, key=lambda item: order.get(item[0], len(order))):
        label: Any = field_name.replace("_", " ")
        labels: dict[str, str] | None = None
        try:
            field = model._meta.get_field(field_name)
        except LookupError:
            field = None
        if field is not None:
            label = getattr(field, "verbose_name", label)
            labels = {str(key): str(name) for key, name in (getattr(field, "choices", None) or [])}
        if old in (None, "", []):
            parts.append(
                _("%(field)s set to %(new)s") % {"field": label, "new": shown(new, labels)}
            )
        else:
            parts.append(f"{label} {shown(old, labels)} → {shown(new, labels)}")
    return "; ".join(parts)


def batch_named(label: str) -> str:
    """ "Batch B1 of PO 2026-0141" → "batch B1": on an order's timeline the order goes unsaid."""
    code = label.removeprefix("Batch ").rsplit(" of PO ", 1)[0]
    return _("batch %(batch)s") % {"batch": code}


def label_of(choices: Iterable[tuple[Any, Any]], key: Any) -> str:
    """The label of ``key`` among a TextChoices' choices, else the key in words."""
    return str(dict(choices).get(key, str(key or "").replace("_", " ")))
