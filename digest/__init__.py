"""The daily digest, the alerts between digests, and their delivery by mail and webhook."""
