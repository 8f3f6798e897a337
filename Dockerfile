# The single-app default: one container, one worker, SQLite in the /data volume, the
# built-in Claude simulator unless ANTHROPIC_API_KEY is set. compose.yaml runs N workers +
# Redis + PostgreSQL from this same image. Both start the app with the start script that
# `make run` and the tests use (ai_chat/serve.py: migrate, then serve on one port with
# workers that respawn).
#
#   docker build -t ai_chat .
#   docker run -p 8000:8000 -v ai_chat-data:/data ai_chat
# Python 3.11: what the lock files were tested with.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    REFLEX_BUN_PATH=/opt/bun/node_modules/.bin/bun \
    AI_CHAT_DB_URL=sqlite:////data/ai_chat.db \
    AI_CHAT_PORT=8000

# Reflex builds the frontend with bun (>= 1.4.4), which its own installer would download
# from GitHub: the npm package ships the same binary. Node itself is only probed.
RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs npm \
    && npm install --silent --no-audit --no-fund --prefix /opt/bun bun@1.4.5 \
    && rm -rf /var/lib/apt/lists/* /root/.npm

RUN useradd --create-home --uid 1000 app && mkdir /data && chown app:app /data
WORKDIR /app

# Dependencies first (cached while only the code changes), exactly as `make` pins them.
COPY requirements.lock ./
RUN pip install -r requirements.lock
COPY --chown=app:app . .
RUN pip install --no-deps -e .

USER app
# The frontend's packages and a first build inside the image: a start then recompiles
# without downloading anything.
RUN AI_CHAT_DB_URL=sqlite:////tmp/build.db reflex export --frontend-only --no-zip \
    && rm -f /tmp/build.db

VOLUME ["/data"]
EXPOSE 8000
# SIGTERM: replies in flight get AI_CHAT_SHUTDOWN_GRACE_S (10 s) to finish, and Granian
# kills a worker 2 s after that: give `docker stop` more (e.g. `docker stop -t 15`).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"
CMD ["python", "-m", "ai_chat.serve"]
