"""Authorizing a customer from a terminal: the ``authorize`` command's callback server on the
loopback interface, and which local user opened each connection."""
