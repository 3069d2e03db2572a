import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
application = get_wsgi_application()

# Each web process loads every view module now (the URLconf imports them), then moves what it
# has loaded out of the cyclic garbage collector's reach (gc.freeze): a full collection then
# scans what requests allocate, not the ~250,000 objects of Django, DRF and plotly. Unfrozen,
# a full collection cost about 40 ms inside some request (bench/RESULTS.md, issue 14).
get_resolver().url_patterns  # noqa: B018 - imported for its side effect
gc.collect()
gc.freeze()
