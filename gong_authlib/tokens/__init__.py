"""One customer's token kept valid for any transport: the refresh core, the base every
transport's auth shares, the code exchange, and pacing by the company's rate budget.

Above :mod:`gong_authlib.stores` (where tokens, leases and budgets live) and below
:mod:`gong_authlib.transport` (which attaches the header and reads the 401).
"""
