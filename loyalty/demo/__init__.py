"""Demo and load data: a realistic loyalty program built fast (``seed``), and days of
everyday changes made through the domain services (``activity``), so that every sync
type has data to export and the incremental ones have work."""
