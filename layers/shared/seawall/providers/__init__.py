"""Provider specifics: one subpackage per third-party service."""
