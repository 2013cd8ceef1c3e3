"""Small real web apps that connect customers with gong_authlib.web, run by the end-to-end
tests under real servers (gunicorn, uvicorn). Settings come from the environment:
``E2E_GONG_CONFIG`` (the integration file), ``E2E_REDIRECT_URI`` (this app's callback) and
``E2E_STORE_URL`` (optional: another store than the file's)."""
