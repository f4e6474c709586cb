"""The shop's spreadsheet into standardized product records: readers, columns, rows, the import service."""
