"""The database: table rows, the store, migrations, API keys and usage."""
