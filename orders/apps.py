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
