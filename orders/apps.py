from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Purchase orders and batches"

    def ready(self) -> None:
        from orders.sentences import timeline_sentences_register

        timeline_sentences_register()
        from orders.dashboard import order_summary, waiting_on
        from portal.dashboard import context_register, waiting_register

        context_register(order_summary)
        waiting_register(waiting_on)
        from orders.pins import PIN_KINDS
        from orders.records import SEALS
        from orders.samples import approved_samples_verify
        from portal.integrity import integrity_check_register, records_register
        from portal.registries import pin_kind_register

        for kind in PIN_KINDS:
            pin_kind_register(kind)
        records_register("orders", "approved samples against their events", SEALS)
        integrity_check_register(
            "approved-sample-photos",
            "stored photos of approved samples against their rows",
            approved_samples_verify,
        )
