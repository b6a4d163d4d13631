"""Numbering rules, serial lists and the reuse registry arrive with the serial-validation issue.
The engine itself (``serials.engine``) never imports Django."""
