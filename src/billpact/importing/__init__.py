"""The import file: its models, its validation, its loading."""
