"""OAuth with Gong: the client (authorize URL, token endpoint), its answers, states, binding.

Nothing here stores tokens or sends API calls; :mod:`gong_authlib.tokens` builds on it. The
package imports nothing by itself, so ``oauth.state`` does not pull in authlib or requests.
"""
