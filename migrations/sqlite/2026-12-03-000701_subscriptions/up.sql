-- Subscriptions to package events (published, yanked, deprecated,
-- advisory, forked): webhooks that a namespace's owners point at a URL,
-- and mails a member asks for. Events are written in the transaction of
-- the change; a job fans each out into deliveries, and each delivery is a
-- job of its own with retries.
CREATE TABLE subscriptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace_id BIGINT NOT NULL REFERENCES namespaces (id),
    -- 'webhook' or 'email'
    channel TEXT NOT NULL,
    -- 'package' (target ns/name), 'namespace' (target ns) or 'upstream'
    -- (what the subscribing namespace forks or depends on; no target)
    scope TEXT NOT NULL,
    target TEXT,
    -- comma-separated event names
    events TEXT NOT NULL,
    url TEXT,
    -- The webhook's signing key: kept in the clear, since signing needs it.
    secret TEXT,
    email TEXT,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    failures_in_row INTEGER NOT NULL DEFAULT 0,
    paused_at TIMESTAMP,
    pause_reason TEXT
);
CREATE INDEX subscriptions_target ON subscriptions (scope, target);
CREATE INDEX subscriptions_namespace ON subscriptions (namespace_id);

CREATE TABLE subscription_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event TEXT NOT NULL,
    package TEXT NOT NULL,
    -- The event's JSON, without what differs per subscription.
    payload TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- What the receiver sees (X-Gemeinwerk-Delivery), the same on every
    -- attempt and redelivery, so that it can drop a repeat.
    guid TEXT NOT NULL UNIQUE,
    subscription_id BIGINT NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    event_id BIGINT NOT NULL REFERENCES subscription_events (id),
    -- 'pending', 'delivered', 'failed' (gave up) or 'paused'
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    -- When the current round of tries began (creation, or a redelivery):
    -- retries stop 24 h after it.
    retry_since TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX deliveries_event ON deliveries (event_id);

CREATE TABLE delivery_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id BIGINT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    attempted_at TIMESTAMP NOT NULL,
    status_code INTEGER,
    latency_ms BIGINT NOT NULL,
    response_excerpt TEXT,
    error TEXT
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id);
