"""The product record and the vocabularies every stage shares (categories, Korean text, values, personal data)."""
