"""gunicorn settings for the Zhiku feedback app in production.

Run from the code checkout (systemd: deploy/zhiku-feedback.service):

    gunicorn -c deploy/gunicorn.conf.py 'feedback_app:create_app()'

The app's own settings are ``ZHIKU_*`` environment variables (see
deploy/feedback.env.example); this file holds only how gunicorn serves it.
Command-line options override it (the tests run it with ``-b 127.0.0.1:0``).
"""

import multiprocessing
import os

# Only nginx on this machine talks to the app (deploy/nginx-zhiku-feedback.conf).
bind = "127.0.0.1:8081"

# Searches are CPU work in Python, flags mostly wait for short git commands: two
# workers per core, at most 8 (each worker holds its own copy of the knowledge base).
# WEB_CONCURRENCY overrides it, as everywhere with gunicorn.
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * multiprocessing.cpu_count(), 8))
worker_class = "sync"

# Each worker builds its app after the fork, so each opens its own repository
# handle, SQLite connections and query-log index (nothing shared across a fork).
preload_app = False

# A flag may run about ten git commands, one of them a push that may take twice
# ZHIKU_GIT_TIMEOUT (default 30 s): a worker is killed only well after that.
timeout = 150
# On restart or stop, a worker finishes the flag it is writing and pushing.
# systemd's TimeoutStopSec (deploy/zhiku-feedback.service) is longer than this.
graceful_timeout = 90
keepalive = 5
# Recycle workers now and then (memory), not all at the same moment.
max_requests = 2000
max_requests_jitter = 200

# Logs go to stderr: journald keeps them (journalctl -u zhiku-feedback).
accesslog = "-"
errorlog = "-"
loglevel = "info"
# The request path without its query string (which holds the customers' questions),
# no Authorization, no Referer and no User-Agent: tokens and questions never reach the
# access log. %({x-forwarded-for}i)s is the client as nginx saw it.
access_log_format = '%({x-forwarded-for}i)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'

# Trust X-Forwarded-* only from nginx on this machine; the app itself reads the client
# address with ZHIKU_TRUSTED_PROXIES=1.
forwarded_allow_ips = "127.0.0.1"
proc_name = "zhiku-feedback"
