"""Evidence items (photos, process records, label prints …) arrive with the evidence issue."""
