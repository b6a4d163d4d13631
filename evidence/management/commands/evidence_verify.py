from portal.management.commands import integrity_verify


class Command(integrity_verify.Command):
    help = "Re-hash every stored evidence file: integrity_verify --part evidence-files."
    parts = ("evidence-files",)
