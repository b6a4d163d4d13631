"""Dates as each language writes them (settings.FORMAT_MODULE_PATH).

Templates name a format (``|date:"DATE_FORMAT"``) instead of spelling one, so a supplier reading
Chinese sees 2026年12月5日 and one reading Vietnamese 05/12/2026. Four names are used: the date,
the date with the time (24-hour, as the portal records times), the short date-time without the
year for lists of recent things, and the day and month. Anything not named here falls back to
Django's own module for the language (input formats, for example).
"""
