"""gunicorn's settings for nettverk: `gunicorn -c python:nettverk.gunicorn_conf --workers 4 'nettverk:create_app()'`.

Python's garbage collector runs a full collection every few requests, and a full collection walks every object
the worker holds: the app, its routes, templates and SQLAlchemy's metadata, some 150,000 objects that live as
long as the worker. That walk took ~100 ms (measured: the p95 of the pages in docs/PERFORMANCE.md was those
pauses). Freezing them after the app is loaded (gc.freeze, as the gc documentation advises for pre-forked
servers) leaves the collector only what requests make.
"""

import gc


def freeze_loaded_objects() -> None:
    gc.collect()
    gc.freeze()


def post_worker_init(worker) -> None:  # gunicorn calls this in each worker once the app is loaded
    freeze_loaded_objects()
