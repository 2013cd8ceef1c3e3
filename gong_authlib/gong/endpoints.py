"""Gong's OAuth endpoints, as its "Create an OAuth app for Gong" page gives them."""

GONG_AUTHORIZE_URL = "https://app.gong.io/oauth2/authorize"
GONG_TOKEN_URL = "https://app.gong.io/oauth2/generate-customer-token"  # noqa: S105 (a URL)
GONG_API_DOMAIN = "gong.io"
