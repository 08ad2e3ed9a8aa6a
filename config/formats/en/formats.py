"""English dates: one format everywhere, tables, pages, emails and PDFs alike ("Dec 6, 2026"). No
abbreviation dot, so a date that ends a sentence does not end it twice."""

DATE_FORMAT = "M j, Y"
SHORT_DATE_FORMAT = DATE_FORMAT
DATETIME_FORMAT = "M j, Y, H:i"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
MONTH_DAY_FORMAT = "M j"
YEAR_MONTH_FORMAT = "F Y"
