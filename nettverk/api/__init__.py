"""JSON API v1. Importing the package declares every route (views.py imports the other route modules), so
openapi.PATHS is whole wherever it is read."""

from nettverk.api import views  # noqa: F401
