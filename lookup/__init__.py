"""Customer-service lookup: which unit went to which customer, and whether its serial can be
trusted. Reads serials and inspection records; never writes. Start at ``lookup.selectors``."""
