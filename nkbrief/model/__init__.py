"""The model: event fields, vocabularies, parsing of messy cells, classification markings and
the palette. Imports nothing from the rest of the project."""
