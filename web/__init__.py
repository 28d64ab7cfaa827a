"""The explorer: `vcdb serve`.  One aiohttp application, server-side templates and a JSON API
under /api/v1 that call the same endpoint functions (web/endpoints.py)."""
