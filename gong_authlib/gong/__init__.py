"""Facts about Gong, one home each: its endpoints, hosts, scopes, limits, paging and 429s.

Nothing here keeps state or knows about stores, transports or the integration file; every
layer above reads its Gong facts from here.
"""
