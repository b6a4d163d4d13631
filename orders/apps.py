from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Purchase orders and batches"

    def ready(self) -> None:
        from orders.approvals import approvals_on_new_version
        from portal.registries import pin_versions_subscribe

        pin_versions_subscribe(approvals_on_new_version)

        from orders.dashboard import order_summary, waiting_on
        from portal.dashboard import context_register, waiting_register

        context_register(order_summary)
        waiting_register(waiting_on)
