"""French admin formats: day first, 24-hour times with the time zone, numbers grouped by a narrow space
and a decimal comma (the rest, such as the input formats, is Django's French)."""

DATE_FORMAT = "d/m/Y"
SHORT_DATE_FORMAT = "d/m/Y"
DATETIME_FORMAT = "d/m/Y H:i:s T"
SHORT_DATETIME_FORMAT = "d/m/Y H:i T"
TIME_FORMAT = "H:i:s"
DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "\N{NARROW NO-BREAK SPACE}"
NUMBER_GROUPING = 3
