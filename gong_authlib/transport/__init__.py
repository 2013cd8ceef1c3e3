"""HTTP transports on the one token core: ``requests/`` and ``httpx/``, independent of each
other (import-linter keeps them so), each importing only its own HTTP library."""
