"""Files out of the store: csv/xlsx/json exports and formula-safe cell values."""
