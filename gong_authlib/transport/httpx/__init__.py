"""httpx: ``GongHttpxAuth`` (an ``httpx.Auth``) and the sync and async clients
(``gong-authlib[httpx]``)."""
