"""Forms of the gate pages: adding a gate with its money, releasing one, recording a payment."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from approvals.models import CURRENCY_CODE, Gate, Payment
from approvals.money import GateMoney, money
from approvals.services.payments import paid_on_problem
from portal.forms import BootstrapFormMixin, date_input

# Gates whose whole point is money: they need an amount. A shipment release may carry one (the
# balance due against the shipping documents) or none.
MONEY_KINDS = {Gate.Kind.DEPOSIT, Gate.Kind.BALANCE, Gate.Kind.EXTRA_FEE}
# Offered as suggestions in the currency box; any ISO 4217 code is accepted.
COMMON_CURRENCIES = ["USD", "EUR", "GBP", "CNY", "HKD", "VND", "JPY"]


def currency_field(**kwargs: Any) -> forms.CharField:
    # No max_length: "dollars" gets the ISO 4217 message below, not a length one.
    return forms.CharField(
        widget=forms.TextInput(
            attrs={
                "maxlength": "3",
                "list": "currency-codes",
                "autocapitalize": "characters",
                "autocomplete": "off",
                "spellcheck": "false",
                "size": "4",
                "placeholder": "USD",
            }
        ),
        **kwargs,
    )


def clean_currency_code(value: str) -> str:
    """Upper-case and trimmed; a code of the wrong shape is the form's error, not the database's."""
    code = (value or "").strip().upper()
    if code:
        CURRENCY_CODE(code)
    return code


class GateForm(BootstrapFormMixin, forms.Form):
    """A new gate and the money due through it: set once, as a gate is never changed."""

    kind = forms.ChoiceField(choices=Gate.Kind.choices, label=_("Kind"))
    amount = forms.DecimalField(
        label=_("Amount due"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        error_messages={"min_value": _("The amount due must be more than zero.")},
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    currency = currency_field(label=_("Currency"), required=False)
    due_date = forms.DateField(label=_("Due date"), required=False, widget=date_input())

    def clean_currency(self) -> str:
        return clean_currency_code(self.cleaned_data.get("currency", ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        kind, amount, currency = data.get("kind"), data.get("amount"), data.get("currency")
        if "amount" in self.errors or "currency" in self.errors:
            return data
        if amount is None and kind in MONEY_KINDS:
            self.add_error(
                "amount",
                _("A %(kind)s gate needs the amount due through it.")
                % {"kind": Gate.Kind(kind).label.lower()},
            )
        elif amount is not None and not currency:
            self.add_error("currency", _("Give the currency of the amount due, such as USD."))
        elif amount is None and currency:
            self.add_error(
                "amount", _("Give the amount due in %(currency)s.") % {"currency": currency}
            )
        return data


class GateReleaseForm(BootstrapFormMixin, forms.Form):
    """Finance ticks a box naming the gate, the order and the money paid through it; a
    blocked gate also needs the reason its release is an exception."""

    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        label=_("Why release it while it is blocked?"),
        help_text=_("Recorded with the release as an exception; the buyer's staff read it."),
        error_messages={"required": _("The gate is blocked: write why it is released anyway.")},
    )
    confirm = forms.BooleanField(
        error_messages={"required": _("Tick the box to confirm the release.")}
    )

    def __init__(self, *args: Any, gate: Gate, blocked: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        paid = _paid(gate)
        # An order's own gate names its PO already ("Deposit of PO 2026-0160").
        label = _("I confirm releasing %(gate)s") % {"gate": gate}
        if gate.batch is not None:
            label = _("I confirm releasing %(gate)s of PO %(order)s") % {
                "gate": gate,
                "order": gate.order.number,
            }
        self.fields["confirm"].label = f"{label} ({paid})" if paid else label
        if not blocked:
            del self.fields["reason"]


def _paid(gate: Gate) -> str:
    """The money recorded through the gate, per currency: "12,500.00 USD paid", or ""."""
    totals: dict[str, Decimal] = {}
    for payment in gate.payments.all():
        totals[payment.currency] = totals.get(payment.currency, Decimal(0)) + payment.amount
    if not totals:
        return ""
    return " + ".join(f"{amount:,.2f} {currency}" for currency, amount in totals.items()) + " paid"


class PaymentForm(BootstrapFormMixin, forms.ModelForm):
    """Money that moved through a gate, prefilled from the gate (``payment_initial``)."""

    document = forms.FileField(label=_("Proving document"), allow_empty_file=True)
    currency = currency_field(label=_("Currency"))

    class Meta:
        model = Payment
        fields = ["kind", "paid_on", "amount", "currency", "payee", "reason"]
        widgets = {
            "paid_on": date_input(),
            "reason": forms.Textarea(attrs={"rows": 2}),
            "amount": forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        }
        labels = {"reason": _("Reason (required while the gate is blocked)")}

    def clean_currency(self) -> str:
        return clean_currency_code(self.cleaned_data.get("currency", ""))

    def clean_amount(self) -> Any:
        amount = self.cleaned_data.get("amount")
        if amount is not None and amount <= 0:
            raise forms.ValidationError(_("The amount must be more than zero."))
        return amount

    def clean_paid_on(self) -> Any:
        paid_on = self.cleaned_data.get("paid_on")
        if paid_on is not None:
            problem = paid_on_problem(paid_on)
            if problem:
                raise forms.ValidationError(problem)
        return paid_on


# The kind of payment a gate's kind suggests.
PAYMENT_KIND_OF_GATE = {
    Gate.Kind.DEPOSIT: Payment.Kind.DEPOSIT,
    Gate.Kind.BALANCE: Payment.Kind.BALANCE,
    Gate.Kind.EXTRA_FEE: Payment.Kind.EXTRA_FEE,
    Gate.Kind.SHIPMENT_RELEASE: Payment.Kind.BALANCE,
}


def payment_initial(fact: GateMoney, *, today: Any) -> dict[str, Any]:
    """What the payment form starts with: the gate's kind of payment, the supplier as payee,
    the gate's currency, what is still outstanding and today's date."""
    initial: dict[str, Any] = {
        "kind": PAYMENT_KIND_OF_GATE[Gate.Kind(fact.gate.kind)],
        "payee": fact.gate.order.supplier.name,
        "paid_on": today,
    }
    if fact.currency:
        initial["currency"] = fact.currency
    if fact.outstanding:  # nothing to prefill once it is paid in full
        initial["amount"] = fact.outstanding
    return initial


def money_sentence(fact: GateMoney) -> str:
    """What releasing the gate means in money, in one plain sentence."""
    gate = fact.gate
    target = (
        _("batch %(batch)s of PO %(order)s")
        % {"batch": gate.batch.code, "order": gate.order.number}
        if gate.batch
        else _("PO %(order)s") % {"order": gate.order.number}
    )
    what = _("the %(kind)s gate of %(target)s") % {
        "kind": gate.get_kind_display().lower(),
        "target": target,
    }
    supplier = gate.order.supplier.name
    if fact.amount is None:
        return str(_("Release %(what)s: no money is due through it") % {"what": what})
    values = {
        "what": what,
        "money": money(fact.amount, fact.currency),
        "supplier": supplier,
        "due": date_format(gate.due_date, "DATE_FORMAT") if gate.due_date else "",
    }
    if gate.due_date:
        return str(_("Release %(what)s: %(money)s due %(due)s to %(supplier)s") % values)
    return str(_("Release %(what)s: %(money)s due to %(supplier)s") % values)
