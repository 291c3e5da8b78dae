// One portable schema for SQLite and PostgreSQL: only types that both
// backends and diesel's MultiConnection support.

diesel::table! {
    namespaces (id) {
        id -> BigInt,
        slug -> Text,
        display_name -> Text,
        ars -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        login -> Text,
        created_at -> Timestamp,
        removed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    members (namespace_id, user_id) {
        namespace_id -> BigInt,
        user_id -> BigInt,
        role -> Text,
        created_at -> Timestamp,
        granted_by -> Nullable<Text>,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        name -> Text,
        token_hash -> Text,
        scopes -> Text,
        namespace_id -> Nullable<BigInt>,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    packages (id) {
        id -> BigInt,
        namespace_id -> BigInt,
        name -> Text,
        kind -> Text,
        title -> Nullable<Text>,
        description -> Text,
        deprecated -> Nullable<Text>,
        downloads -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        forked_from -> Nullable<Text>,
        upstream -> Nullable<Text>,
        recent_downloads -> BigInt,
        recent_downloads_until -> Nullable<Date>,
        downloads_changed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    versions (id) {
        id -> BigInt,
        package_id -> BigInt,
        num -> Text,
        canonical_num -> Text,
        cksum -> Text,
        size -> BigInt,
        manifest -> Text,
        forked_from -> Nullable<Text>,
        yanked_at -> Nullable<Timestamp>,
        yank_reason -> Nullable<Text>,
        published_by -> Nullable<BigInt>,
        downloads -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    version_downloads (version_id, day) {
        version_id -> BigInt,
        day -> Date,
        count -> BigInt,
    }
}

diesel::table! {
    dependencies (id) {
        id -> BigInt,
        version_id -> BigInt,
        dep_name -> Text,
        req -> Text,
    }
}

diesel::table! {
    dependents (dependency, dependent) {
        dependency -> Text,
        dependent -> Text,
    }
}

diesel::table! {
    dependent_namespaces (dependency, namespace) {
        dependency -> Text,
        namespace -> Text,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        created_at -> Timestamp,
        actor -> Nullable<Text>,
        action -> Text,
        namespace -> Nullable<Text>,
        target -> Text,
        details -> Text,
        client_addr -> Nullable<Text>,
    }
}

diesel::table! {
    jobs (id) {
        id -> BigInt,
        kind -> Text,
        payload -> Text,
        attempts -> Integer,
        last_error -> Nullable<Text>,
        run_after -> Timestamp,
        created_at -> Timestamp,
        claimed_by -> Nullable<Text>,
    }
}

diesel::table! {
    web_sessions (id_hash) {
        id_hash -> Text,
        token_id -> BigInt,
        csrf -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        own_token -> Bool,
    }
}

diesel::table! {
    codelist_sources (version_id) {
        version_id -> BigInt,
        canonical_uri -> Text,
        source_version -> Text,
    }
}

diesel::table! {
    fim_sources (version_id) {
        version_id -> BigInt,
        fim_id -> Text,
        fim_version -> Text,
    }
}

diesel::table! {
    trusted_publishers (id) {
        id -> BigInt,
        namespace_id -> BigInt,
        package -> Nullable<Text>,
        issuer -> Text,
        project -> Text,
        ref_pattern -> Nullable<Text>,
        environment -> Nullable<Text>,
        created_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    trusted_exchanges (token_id) {
        token_id -> BigInt,
        publisher_id -> BigInt,
        issuer -> Text,
        jti -> Text,
        project -> Text,
        git_ref -> Text,
        pipeline_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    user_identities (issuer, subject) {
        issuer -> Text,
        subject -> Text,
        user_id -> BigInt,
        provider -> Text,
        created_at -> Timestamp,
        last_sign_in_at -> Timestamp,
    }
}

diesel::table! {
    oidc_logins (state_hash) {
        state_hash -> Text,
        browser_hash -> Text,
        provider -> Text,
        pkce_verifier -> Text,
        nonce -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    advisories (id) {
        id -> BigInt,
        package_id -> BigInt,
        kind -> Text,
        severity -> Text,
        text -> Text,
        affected -> Text,
        fixed -> Nullable<Text>,
        created_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    subscriptions (id) {
        id -> BigInt,
        namespace_id -> BigInt,
        channel -> Text,
        scope -> Text,
        target -> Nullable<Text>,
        events -> Text,
        url -> Nullable<Text>,
        secret -> Nullable<Text>,
        email -> Nullable<Text>,
        created_by -> BigInt,
        created_at -> Timestamp,
        failures_in_row -> Integer,
        paused_at -> Nullable<Timestamp>,
        pause_reason -> Nullable<Text>,
    }
}

diesel::table! {
    subscription_events (id) {
        id -> BigInt,
        event -> Text,
        package -> Text,
        payload -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    deliveries (id) {
        id -> BigInt,
        guid -> Text,
        subscription_id -> BigInt,
        event_id -> BigInt,
        state -> Text,
        attempts -> Integer,
        created_at -> Timestamp,
        retry_since -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    delivery_attempts (id) {
        id -> BigInt,
        delivery_id -> BigInt,
        attempted_at -> Timestamp,
        status_code -> Nullable<Integer>,
        latency_ms -> BigInt,
        response_excerpt -> Nullable<Text>,
        error -> Nullable<Text>,
    }
}

diesel::joinable!(members -> namespaces (namespace_id));
diesel::joinable!(members -> users (user_id));
diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(web_sessions -> api_tokens (token_id));
diesel::joinable!(packages -> namespaces (namespace_id));
diesel::joinable!(versions -> packages (package_id));
diesel::joinable!(dependencies -> versions (version_id));
diesel::joinable!(version_downloads -> versions (version_id));
diesel::joinable!(codelist_sources -> versions (version_id));
diesel::joinable!(fim_sources -> versions (version_id));
diesel::joinable!(trusted_publishers -> namespaces (namespace_id));
diesel::joinable!(trusted_publishers -> users (created_by));
diesel::joinable!(trusted_exchanges -> api_tokens (token_id));
diesel::joinable!(user_identities -> users (user_id));
diesel::joinable!(advisories -> packages (package_id));
diesel::joinable!(advisories -> users (created_by));
diesel::joinable!(subscriptions -> namespaces (namespace_id));
diesel::joinable!(subscriptions -> users (created_by));
diesel::joinable!(deliveries -> subscriptions (subscription_id));
diesel::joinable!(deliveries -> subscription_events (event_id));
diesel::joinable!(delivery_attempts -> deliveries (delivery_id));

diesel::allow_tables_to_appear_in_same_query!(
    namespaces,
    users,
    members,
    api_tokens,
    packages,
    versions,
    version_downloads,
    dependencies,
    dependents,
    dependent_namespaces,
    audit_log,
    jobs,
    web_sessions,
    codelist_sources,
    fim_sources,
    trusted_publishers,
    trusted_exchanges,
    user_identities,
    oidc_logins,
    advisories,
    subscriptions,
    subscription_events,
    deliveries,
    delivery_attempts,
);
