"""The web server: portal, API, health checks (ASGI, FastAPI)."""
