from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal: organisations, people and audit log"

    def ready(self) -> None:
        from portal.sentences import timeline_sentences_register

        timeline_sentences_register()
        from portal.api_bodies import read_text_strictly
        from portal.integrity import records_register
        from portal.models import Notification, NotificationRead
        from portal.records import Seal, columns

        read_text_strictly()
        records_register(
            "portal",
            "notifications against their events",
            [
                Seal(Notification, columns(Notification), ("notification.sent",)),
                # Read marks are sealed together under their reader (portal.notification_reads).
                Seal(
                    NotificationRead,
                    columns(NotificationRead),
                    ("notifications.read",),
                    parent="notification__recipient",
                ),
            ],
        )
