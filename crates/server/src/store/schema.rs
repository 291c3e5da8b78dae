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
    }
}

diesel::table! {
    members (namespace_id, user_id) {
        namespace_id -> BigInt,
        user_id -> BigInt,
        role -> Text,
        created_at -> Timestamp,
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

diesel::allow_tables_to_appear_in_same_query!(
    namespaces,
    users,
    members,
    api_tokens,
    packages,
    versions,
    version_downloads,
    dependencies,
    audit_log,
    jobs,
    web_sessions,
    codelist_sources,
    fim_sources,
);
