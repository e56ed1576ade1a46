# syntax=docker/dockerfile:1
#
# stormbench image: the release binary plus PostgreSQL server binaries, so
# `--embedded` runs a throwaway cluster inside the container.
#
#   docker build -t stormbench .
#   docker run --rm stormbench --help

# ---- build ----
FROM rust:1-bookworm AS builder

RUN apt-get update \
    && apt-get install -y --no-install-recommends pkg-config libssl-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY config ./config
COPY workloads ./workloads

# The target dir lives in a cache mount, so copy the binary out in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
    && install -m 0755 target/release/stormbench /usr/local/bin/stormbench

# ---- runtime ----
FROM debian:bookworm-slim

# postgresql-common first, so installing the server does not create and start
# a default cluster: stormbench creates its own throwaway clusters.
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends postgresql-common; \
    sed -ri 's/^#?[[:space:]]*create_main_cluster[[:space:]]*=.*/create_main_cluster = false/' \
        /etc/postgresql-common/createcluster.conf; \
    apt-get install -y --no-install-recommends postgresql ca-certificates libssl3; \
    rm -rf /var/lib/apt/lists/*

# PostgreSQL refuses to run as root: run as an ordinary user.
RUN useradd --system --uid 999 --create-home --home-dir /home/stormbench \
        --shell /usr/sbin/nologin stormbench

COPY --from=builder /usr/local/bin/stormbench /usr/local/bin/stormbench
COPY config/ /app/config/
COPY workloads/ /app/workloads/

# Config and workloads stay read-only; results can be written under /app.
RUN mkdir -p /app/results && chown stormbench:stormbench /app /app/results

WORKDIR /app
USER stormbench
ENTRYPOINT ["stormbench"]
