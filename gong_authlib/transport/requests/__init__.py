"""requests: ``GongAuth`` (a ``requests.auth.AuthBase``) and ``gong_session``."""
