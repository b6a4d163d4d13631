from portal.management.commands import integrity_verify


class Command(integrity_verify.Command):
    help = "The audit chain and its checkpoints: integrity_verify --part chain --part anchors."
    parts = ("chain", "anchors")
