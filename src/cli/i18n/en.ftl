# The command line's English messages. Same ids as de.ftl (a test checks).

## The frame around every failure, and the client's errors

error = error: { $message }
warning = warning: { $message }
diagnostic = { $place }: { $severity ->
    [warning] warning
   *[error] error
}[{ $code }]: { $message }
registry-failed = the registry failed: { $message }
no-token = no API token: set GEMEINWERK_TOKEN or run `gemeinwerk login`
advisory-warning = warning: advisory for { $package } { $version } ({ $kind }, { $severity }): { $text } (fixed in: { $fixed })
advisories-denied = { $count } advisories affect locked versions (--deny-advisories)
advisories-unchecked = warning: advisories not checked, the registry did not answer: { $error }
ci-id-token-failed = trusted publishing: {$detail}
unreachable = cannot reach the registry at { $registry }
unreachable-offline = cannot reach the registry at { $registry } (with a filled cache, --offline works without it)
bad-answer = the registry at { $registry } sent an unreadable answer
bad-index = index/{ $file } of { $registry } is unreadable
index-status = the registry at { $registry } answered HTTP { $status } for index/{ $file }
not-a-registry = { $registry } has no index/config.json; is it a gemeinwerk registry?
index-not-cached = --offline: index/{ $file } of { $registry } is neither cached nor vendored; run once with network, or use `gemeinwerk vendor`
archives-not-cached = --offline, but { $count ->
    [one] { $count } archive is
   *[other] { $count } archives are
} neither in the cache ({ $cache }) nor vendored: { $labels }
no-home = neither { $var } nor HOME is set; { $what ->
    [cache] the cache
    [token] the stored token
   *[other] { $what }
} needs a home
cannot-read = cannot read { $path }
cannot-write = cannot write { $path }
cannot-create = cannot create { $path }
cannot-create-in = cannot create a folder in { $dir }
cannot-remove = cannot remove { $path }
not-a-package = { $dir } has no gemeinwerk.toml; run this in a package folder or name one
no-project = { $dir } has no gemeinwerk.toml; add a first dependency with `gemeinwerk add NS/NAME`
symlink = { $path } is a symbolic link; packages may contain only regular files
lockfile-unreadable = { $file } is unreadable; nothing was changed
no-solution = the dependencies cannot be resolved:
download-refused = { $label } cannot be downloaded from { $url }: HTTP { $status }
download-failed = downloading { $label } from { $url } failed
truncated = { $label } from { $url }: { $why }; it was not used
checksum-mismatch = checksum mismatch for { $label }: { $by ->
    [lock] gemeinwerk.lock
   *[index] the index
} says sha256 { $expected }, but the download from { $url } has sha256 { $got }; it was changed or damaged on the way and was not used
unusable-archive = the archive of { $label } is unusable
wrong-prefix = the archive of { $label } holds "{ $prefix }/" instead of "{ $expected }/"
untouched = { $dest } was left as it was
bad-add-spec = cannot add "{ $spec }": { $why }; write NS/NAME or NS/NAME@REQ, e.g. kassel/bewohnerparkausweis@^1.0
bad-requirement = cannot add "{ $spec }": "{ $req }" is not a version requirement ({ $why }); for example ^1.2 or =1.0.3
dest-not-a-folder = --dest { $dest } names no folder
folder-not-empty = { $dir } exists and is not empty; name another folder with --dir
upstream-not-utf8 = the upstream manifest is not UTF-8
bad-upstream-version = the registry named an upstream version "{ $version }": { $why }

## Words used by several commands

kind = { $kind ->
    [form] form
    [process] process
    [fieldgroup] fieldgroup
   *[other] { $kind }
}
role = { $role ->
    [owner] owner
    [publisher] publisher
   *[other] { $role }
}
size = { $value } { $unit }
size-bytes = { $count ->
    [one] { $count } byte
   *[other] { $count } bytes
}
problems-found = { $errors ->
    [one] { $errors } error
   *[other] { $errors } errors
}{ $warnings ->
    [0] {""}
    [one] , { $warnings } warning
   *[other] , { $warnings } warnings
}
check-failed = the check found { $problems }
no-such-version = { $package } has no version { $version }
spec-no-version = "{ $spec }" names no version; write it as { $package }@1.0.0
member-removed = { $login } removed from { $namespace }
cannot-read-package = { $dir } cannot be read

## login, new, validate, diff, package, publish, yank, deprecate, info

login-prompt = Paste the API token for { $registry } and press Enter:
login-stdin = cannot read the token from stdin
login-not-a-token = that does not look like a gemeinwerk token (gw_…)
login-stored = token stored in { $path }
logout-removed = the token for { $registry } was removed from { $path }
logout-none = no token is stored for { $registry }
new-unknown-kind = unknown kind "{ $kind }"
new-not-empty = { $dir } already exists and is not an empty folder; choose another with --dir
new-created = created the { $kind } package { $name } in { $dir }
    next: fill in the placeholders (…), then run `gemeinwerk validate { $dir }`
valid = { $label } is valid
valid-without-deps = { $label } is valid (without its dependencies)
diff-bad-side = "{ $arg }" is neither a package folder nor NS/NAME@VERSION
diff-unreadable = { $label } cannot be read as a package
diff-no-changes = no changes
diff-count = { $count } { $level }
diff-counts = { $counts }
diff-bump = needs a { $level } bump
packed = packed { $file } ({ $size })
publish-dry-run = { $label } is ready to publish (dry run, nothing uploaded); sha256 { $cksum }
published = published { $label }
yanked = yanked { $label }
unyanked = unyanked { $label }
deprecated = { $package } is deprecated
undeprecated = { $package } is no longer deprecated
deprecated-mark = [deprecated]
info-deprecated = DEPRECATED: { $message }
info-downloads = { $count ->
    [one] { $count } download
   *[other] { $count } downloads
}
info-yanked = yanked: { $reason }
info-no-reason = no reason given
info-forked-from = forked from { $upstream }

## owner, audit, search

member-set = { $login } is now { $role } of { $namespace }
audit-from = from { $addr }
search-summary = { $shown } of { $total ->
    [one] { $total } package
   *[other] { $total } packages
}

## fork and the fork network

forked = forked { $upstream }@{ $version } into { $target } in { $dir } { $history ->
    [yes] (a git repository with the upstream history)
   *[no] (without history: git is not available)
}
forked-next = adapt it, then `gemeinwerk validate` and `gemeinwerk publish` in that folder
network-base = forked from { $base } ({ $behind ->
    [one] { $behind } upstream release
   *[other] { $behind } upstream releases
} behind)
network-builds-on = which builds on { $package }
network-forks = forks:
network-fork = { $package }  from { $base }  ({ $behind } behind)

## upstream

manifest-not-utf8 = { $file } is not UTF-8
manifest-problems = the manifest has problems; fix them first
not-a-fork = { $dir } is not a fork: its { $file } has no [forked-from]
no-newer-release = { $upstream } has no release newer than { $version }; nothing to do
upstream-unreadable = an upstream version cannot be read as a package
upstream-builds-on = builds on { $upstream }
upstream-advisory = advisory for the base ({ $kind }, { $severity }): { $text } (fixed in: { $fixed })
upstream-up-to-date = up to date: no newer upstream release
merge-in-progress = a merge is in progress ({ $file } exists): resolve its conflicts first
merge-no-name = the merged manifest has no [package] name
merge-bad-version = the index names an upstream version "{ $version }"
merge-taken = taken: { $change }
merge-conflict = CONFLICT { $conflict }
merge-conflicts-left = { $count ->
    [one] { $count } conflict
   *[other] { $count } conflicts
} left; settle each with `gemeinwerk upstream resolve PATH --ours|--theirs` (or edit the files and remove its entry from { $file })
merge-problems = merged { $label }, but the result has { $problems }; fix them before publishing
merged = merged { $upstream } { $from } → { $to }; the folder validates
resolved-done = resolved { $path }; no conflicts left — run `gemeinwerk validate`
resolved-open = resolved { $path }; { $count ->
    [one] { $count } conflict
   *[other] { $count } conflicts
} left

## add, lock, fetch, vendor

lock-missing = { $dir } has no { $lock }; run `gemeinwerk lock` and commit the lockfile
lock-mismatch = { $lock } no longer matches { $manifest } ({ $why }); run `gemeinwerk lock` and commit the lockfile
add-unknown = { $package } does not exist in the registry at { $registry }
add-no-match = no published, non-yanked version of { $package } matches { $req }
add-all-yanked = every version of { $package } is yanked
add-cannot-edit = cannot edit { $path }: { $error }
add-would-break = editing { $path } would break it: { $problem }
added = added { $package } = "{ $req }" to { $path }
lock-updated = updated { $name } { $from } → { $to }
lock-locked = locked { $name } { $version }
lock-summary = { $count ->
    [one] { $count } package
   *[other] { $count } packages
} in { $path } (index: { $fetched } fetched, { $unchanged } unchanged)
fetch-heading = Downloading
fetch-downloaded = downloaded { $label } ({ $size })
fetch-summary = fetched { $count ->
    [one] { $count } package
   *[other] { $count } packages
} into { $dest }: { $downloaded } downloaded ({ $size }), { $cached } from the cache
vendored = vendored { $count ->
    [one] { $count } package
   *[other] { $count } packages
} into { $dir }; without network: gemeinwerk fetch --locked --offline --vendored { $dir }

## import, export

import-failed = { $file }: { $error }; nothing was written
import-codelist = code list { $name } { $version } with { $codes } codes (the list's version: { $source })
import-codelists-not-asked = could not ask the registry for code list and field group packages ({ $error }); the XRepository references stay and the groups are copied
import-wrote = wrote { $dir }; review it, then `gemeinwerk validate { $dir }`
file-too-large = { $file }: the file has more than { $limit } bytes; at most { $limit } bytes are read; nothing was written
folder-exists = { $dir } already exists; name a new folder with --dir; nothing was written
export-offline = the registry at { $registry } is not reachable ({ $why }); included field groups and code list packages are not resolved

## serve (what a person reads in the terminal; the log stays English)

serve-cannot-listen = cannot listen on { $bind }
serve-cannot-seed = cannot seed the demo data
serve-demo-seeded = Demo data seeded. API tokens (shown once, also in { $file }):
serve-demo-skipped = The registry is not empty; no demo data seeded.
serve-listening = gemeinwerk listens on { $url }
serve-stopped = the server stopped with an error
serve-gave-up-waiting = gave up after waiting { $secs } s for the stores (--wait-for-stores-secs)

## admin

duration-invalid = "{ $value }" is not a duration like 90d, 12h or 4w
duration-unit = "{ $value }" is not a duration like 90d, 12h or 4w (units: m, h, d, w)
admin-namespace-added = namespace { $slug } added
admin-user-added = user { $login } added
admin-user-removed = user { $login } removed: { $tokens } tokens revoked, member of { $namespaces } namespaces no longer
member-is = { $login } is { $role } of { $namespace }
reindex-index = git index and package histories rebuilt from the database ({ $count ->
    [one] { $count } package
   *[other] { $count } packages
})
reindex-search = search index rebuilt from the database ({ $count ->
    [one] { $count } package
   *[other] { $count } packages
})
unknown-scope = unknown scope "{ $scope }"; scopes are publish, yank, owners
token-created = token { $id } created for { $login }; it is shown only now:
token-revoked = token { $id } revoked
token-state-active = active
token-state-revoked = revoked
token-expires = expires { $at }
token-never-expires = expires never
token-last-used = last used { $at }
token-never-used = last used never
fsck-orphans = { $count ->
    [one] { $count } orphan blob
   *[other] { $count } orphan blobs
} that no version names; --repair removes those older than an hour
fsck-orphans-removed = { $count ->
    [one] { $count } orphan blob
   *[other] { $count } orphan blobs
} that no version names; { $removed } removed (those younger than an hour are kept: a publish may be in flight)
fsck-checked = checked { $packages ->
    [one] { $packages } package
   *[other] { $packages } packages
} and { $archives ->
    [one] { $archives } archive
   *[other] { $archives } archives
}: { $problems ->
    [one] { $problems } problem
   *[other] { $problems } problems
}
fsck-repaired = { $count } repaired
fsck-disagree = the stores disagree; run `gemeinwerk admin fsck --repair`

## clap: help and usage errors

usage-heading = Usage
commands-heading = Commands
arguments-heading = Arguments
options-heading = Options
command-placeholder = COMMAND
help-flag = Print help
version-flag = Print version
help-command = Print this message or the help of the given subcommand(s)
help-env = [env: { $name }]
help-default = [default: { $value }]
help-values = [possible values: { $values }]
clap-unknown-argument = unexpected argument '{ $arg }' found
clap-invalid-value = invalid value '{ $value }' for '{ $arg }'
clap-value-missing = a value is required for '{ $arg }' but none was supplied
clap-invalid-subcommand = unrecognized subcommand '{ $name }'
clap-missing-required = the following required arguments were not provided:
clap-missing-subcommand = '{ $name }' requires a subcommand but one was not provided
clap-subcommands = [subcommands: { $names }]
clap-repeated = the argument '{ $arg }' cannot be used multiple times
clap-conflict = the argument '{ $arg }' cannot be used with { $other }
clap-conflict-others = the argument '{ $arg }' cannot be used with one or more of the other specified arguments
clap-too-many = unexpected value '{ $value }' for '{ $arg }' found; no more were expected
clap-wrong-number = wrong number of values for '{ $arg }': { $actual }
clap-no-equals = equal sign is needed when assigning values to '{ $arg }'
clap-invalid-utf8 = invalid UTF-8 was detected in one or more arguments
clap-similar = tip: a similar { $what ->
    [subcommand] subcommand
    [argument] argument
   *[value] value
} exists: { $names }
clap-similar-many = tip: some similar { $what ->
    [subcommand] subcommands
    [argument] arguments
   *[value] values
} exist: { $names }
clap-tip = tip: { $tip }
quoted = '{ $text }'
clap-more-info = For more information, try '{ $help }'.

## Help texts of the commands (cmd-PATH) and their arguments (arg-…); a
## test checks them against the doc comments in src/cli.

cmd-gemeinwerk = Formulare und Verfahren teilen: the package registry for public administrations
cmd-serve = Run the registry server
arg-data-dir = Where the registry keeps its data
arg-database-url = `postgres://…` for PostgreSQL; default: SQLite inside the data dir
arg-blob-store = Where package archives go: `s3://BUCKET[/PREFIX]` on S3-compatible object storage (credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY); default: the folder `blobs` in the data dir
arg-s3-endpoint = The S3 endpoint, e.g. `http://127.0.0.1:3900` for a self-hosted store (default: AWS_ENDPOINT, else AWS S3). Requests are path-style
arg-s3-region = The S3 region (default: AWS_REGION or AWS_DEFAULT_REGION, else us-east-1)
arg-serve-job-lease-secs = How long a node's claim on a job holds, in seconds: when a node dies mid-job, another takes the job over after this long
arg-serve-history-cache-repos = Package histories this node keeps on disk; beyond that the least recently used go, and are made again from the database when asked for
arg-serve-history-cache-grace-secs = A package history used this recently stays on disk beyond that number, in seconds: a client that read its refs may still be fetching its packs
arg-serve-rate-limit-sign-in = Sign-in attempts a client address may make per minute on this node; 0 no limit
arg-serve-rate-limit-publish = Publishes a token may make per minute on this node; 0 no limit
arg-serve-rate-limit-token-create = Tokens a token may make per minute on this node; 0 no limit
arg-serve-rate-limit-token-exchange = Trusted-publishing token exchanges a client address may make per minute on this node; 0 no limit
arg-serve-trusted-publishing-issuers = An OIDC issuer whose CI ID tokens may be exchanged for publish tokens (repeat for several); default: gitlab.com, gitlab.opencode.de and GitHub Actions
arg-serve-trusted-publishing-audience = The audience CI ID tokens must name (default: the public URL)
arg-serve-identity-config = A TOML file with the identity providers people sign in with (`[[provider]]` tables, see docs/identity.md)
arg-serve-oidc-issuer = The issuer of one OpenID Connect provider to sign in with (several: --identity-config)
arg-serve-oidc-client-id = This registry's client id at that provider
arg-serve-oidc-client-secret = This registry's client secret at that provider (better from the environment than on the command line)
arg-serve-oidc-name = The provider's name on the sign-in page
arg-serve-oidc-login-claim = The ID token claim that gives the login
arg-serve-oidc-groups-claim = The ID token claim that lists the groups
arg-serve-oidc-group-roles = A group that gives a namespace role, as GROUP=NAMESPACE:ROLE (repeat for several)
arg-serve-trusted-proxies = A proxy or load balancer whose X-Forwarded-For names the client (repeat for several); others' headers are ignored
arg-serve-wait-for-stores-secs = How long to wait at start for PostgreSQL or the object store when they do not answer, in seconds, answering 503 meanwhile; 0 stops at once
arg-serve-webhook-allow-private = Let webhooks call private, loopback and link-local addresses (receivers on the operator's own network; tests)
arg-serve-webhook-timeout-secs = How long one webhook attempt may take, connecting and reading the answer included, in seconds
arg-serve-webhook-retry-base-ms = The wait before a failed delivery's first retry, in milliseconds; it doubles with every attempt, up to an hour
arg-serve-webhook-retry-for-secs = How long a failed delivery is retried before it is given up, in seconds
arg-serve-webhook-pause-after = Failed attempts in a row after which a subscription is paused until its owner resumes it
arg-serve-smtp-url = The SMTP server for mails about package events, e.g. smtp://user:pass@mail.example.de:587?tls=required; without it no mail is sent
arg-serve-mail-from = The sender of those mails, e.g. "gemeinwerk <gemeinwerk@ekom21.de>"
arg-serve-bind = Address to listen on
arg-serve-public-url = The URL clients use to reach this registry (default: http:// + bind)
arg-serve-demo = Seed demo municipalities, accounts and packages into an empty registry
arg-serve-max-upload-bytes = Largest accepted upload, in bytes
arg-serve-max-unpacked-bytes = Largest unpacked size of an archive, in bytes
arg-serve-search-refresh-secs = How often download counts are brought into the search ranking, in seconds
arg-serve-log-format = `text` (one line per event) or `json` (one object per line)
arg-serve-downloads-flush-secs = How often counted downloads are written to the database, in seconds
arg-serve-index-squash-after = Squash the git index's history into one snapshot commit after this many commits (the old history goes to /git/index-archive.git); 0 never
arg-serve-max-entries = Most entries in an archive
cmd-admin = Operator commands that work on the stores directly
cmd-admin-namespace = Namespaces: one per municipality or provider
cmd-admin-namespace-add = Add a namespace
arg-admin-namespace-add-slug = The namespace's short name in package names, e.g. kassel
arg-admin-namespace-add-name = Display name, e.g. "Stadt Kassel"
arg-admin-namespace-add-ars = Amtlicher Regionalschlüssel (12 digits)
cmd-admin-namespace-list = List the namespaces
cmd-admin-user = Users
cmd-admin-user-add = Add a user
cmd-admin-user-remove = Remove a user: tokens revoked, sessions ended, memberships and sign-in identities gone; the login stays, for the audit log
arg-login = The user's login
cmd-admin-member = Members of namespaces
cmd-admin-member-add = Add a member (or change the role of one)
arg-namespace = The namespace, e.g. kassel
arg-role = publisher: may publish and yank; owner: may also manage the members
cmd-admin-member-remove = Remove a member
cmd-admin-token = API tokens
cmd-admin-token-create = Create a token; it is printed once and never stored in plain text
arg-admin-token-create-scope = Comma-separated: publish, yank, owners
arg-admin-token-create-namespace = Restrict the token to one namespace
arg-admin-token-create-expires-in = Lifetime such as 90d, 12h, 4w
arg-admin-token-create-name = A name to recognise the token by, e.g. "ci"
cmd-admin-token-revoke = Revoke a token, by id or by the token itself
arg-admin-token-revoke-token = The token's id, or the token itself
cmd-admin-token-list = List a user's tokens (never their values)
cmd-admin-fsck = Compare the git index and the blob store with the database
arg-admin-fsck-repair = Rewrite what differs from the database
cmd-admin-reindex = Rebuild the derived views (the git index, the package histories and the search index) from the database. A running server switches to the new search index by itself
cmd-login = Store an API token for a registry (read from stdin unless given)
cmd-logout = Remove the stored API token of a registry
arg-login-token = The token (default: read from stdin, so that it stays out of the shell history)
arg-registry = The registry to talk to
arg-json = Print machine-readable JSON on stdout
cmd-new = Create a new package folder with an example that passes `validate`
arg-new-name = NS/NAME of the new package
arg-new-kind = What the package holds
arg-new-dir = The folder to create (default: ./NAME)
cmd-validate = Check a package folder as the registry would, with its dependencies resolved against the registry when it is reachable
arg-dir = The package folder (default: the current one)
arg-validate-offline = Do not contact the registry; dependencies stay unchecked
cmd-diff = Show the semantic changes between two versions, each given as NS/NAME@VERSION (from the registry) or a package folder
arg-diff-a = The old side
arg-diff-b = The new side
cmd-package = Build the package's archive into DIR/target/package/
cmd-publish = Publish a package folder
arg-publish-dry-run = Check and pack, but do not upload
arg-publish-no-wait = Answer as soon as the version is stored, without waiting (at most 2 s) until the registry's search shows it
cmd-yank = Mark a version as not to be used for new locks (it stays downloadable)
arg-spec = NS/NAME@VERSION
arg-yank-reason = Why, for the users of the version (e.g. "wrong fee")
cmd-unyank = Lift a yank
cmd-deprecate = Mark a package deprecated, with a message for its users
arg-deprecate-package = NS/NAME
arg-deprecate-message = What users should do instead (e.g. "use kassel/hundesteuer-2")
arg-deprecate-undo = Lift the deprecation
cmd-search = Search packages: German words, typos and parts of compound words find what you mean ("Hunde Steuer", "Parkauswies", "Strassenfest")
arg-search-query = What to look for, in everyday German ("Hundesteuer anmelden")
arg-search-kind = form, process or fieldgroup
arg-search-themenfeld = An OZG Themenfeld, e.g. mobilitaet_reisen
arg-search-namespace = Only packages of this namespace, e.g. kassel
arg-search-vertrauensniveau = niedrig, substanziell or hoch
arg-search-sort = relevance, downloads, updated or name
arg-search-page = The page of results, from 1
arg-search-per-page = Results per page
arg-search-deprecated = Show deprecated packages too
cmd-info = Show a package and its versions
arg-info-spec = NS/NAME or NS/NAME@VERSION
cmd-fork = Fork a package into your namespace: records the fork and writes a working folder with the upstream's history
arg-fork-source = NS/NAME or NS/NAME@VERSION to fork
arg-fork-target = NS/NAME of the fork
arg-fork-dir = The folder to write (default: the fork's name)
cmd-upstream = Follow the package this fork was made from: status, diff, merge, resolve
cmd-upstream-status = Newer upstream versions and what changed in them
arg-upstream-dir = The fork's folder (default: the current one)
cmd-upstream-diff = The changes from the version the fork builds on to a newer one
arg-upstream-diff-to = The upstream version to compare with (default: the newest)
cmd-upstream-merge = Merge upstream changes into the fork's folder, property by property
arg-upstream-merge-to = The upstream version to merge (default: the newest)
cmd-upstream-resolve = Settle one conflict of a merge with the fork's or the upstream's value
arg-upstream-resolve-path = The conflict's path, as `upstream merge` printed it
arg-upstream-resolve-ours = Keep the fork's value
arg-upstream-resolve-theirs = Take the upstream's value
cmd-owner = Manage the members of a namespace
cmd-owner-add = Add a member (or change the role of one)
cmd-owner-remove = Remove a member
cmd-owner-list = List the members
cmd-audit = Show the audit log of a namespace (owners only)
arg-audit-limit = The most recent entries to show
cmd-add = Add a dependency to the project's gemeinwerk.toml (comments and layout stay)
arg-add-spec = NS/NAME or NS/NAME@REQ (default requirement: ^ the newest non-yanked version)
arg-project = The project folder, with gemeinwerk.toml (and gemeinwerk.lock)
cmd-lock = Resolve the whole dependency graph and write gemeinwerk.lock
arg-lock-update = Resolve afresh to the newest versions, ignoring the versions the lockfile has (yanked ones are then dropped)
arg-lock-offline = Resolve from the cached (or vendored) index only
arg-lock-deny-advisories = Fail (exit 1) when an advisory affects a locked version (for CI)
arg-vendored = A folder written by `gemeinwerk vendor`, read before the cache
cmd-fetch = Download, verify and unpack the locked packages into gemeinwerk_packages/
arg-fetch-locked = Fail unless gemeinwerk.lock exists and matches gemeinwerk.toml (for CI); without it a missing or outdated lock is made anew
arg-fetch-offline = Use only the cache and the vendored folder; no network
arg-fetch-dest = Where the packages are unpacked, as DEST/NS/NAME/ (default: gemeinwerk_packages/ in the project folder)
arg-fetch-jobs = Parallel downloads
arg-fetch-deny-advisories = Fail (exit 1) when an advisory affects a locked version (for CI)
cmd-vendor = Write the locked archives and index files into a folder for offline CI
arg-vendor-out = The folder to write archives/ and index/ into
arg-vendor-offline = Use only the cache; no network
cmd-import = Make a package from a standard format (FIM XDatenfelder)
cmd-import-xdatenfelder = Import a FIM XDatenfelder Stammdatenschema (as a form) or Datenfeldgruppe (as a field group), XDatenfelder 1.0, 2.0 or 3.0.0, into a new package folder; prints what could not be mapped exactly
arg-import-xdatenfelder-file = The XDatenfelder XML file
arg-import-xdatenfelder-dir = The folder to create (default: ./NAME); it must not exist yet
arg-import-xdatenfelder-namespace = The namespace of the new package
arg-import-xdatenfelder-name = The package name (default: made from the FIM name)
arg-import-xdatenfelder-license = The licence to write into the manifest (XDatenfelder carries none)
arg-import-xdatenfelder-offline = Do not ask the registry for code list and field group packages: code list references stay XRepository references, Datenfeldgruppen are copied
cmd-import-genericode = Import an OASIS genericode 1.0 code list (as the XRepository publishes them) into a new code list package folder
arg-import-genericode-file = The genericode XML file
arg-import-genericode-dir = The folder to create (default: ./NAME); it must not exist yet
arg-import-genericode-namespace = The namespace of the new package
arg-import-genericode-name = The package name (default: made from the list's short name)
arg-import-genericode-version = The package version (default: from the list's version: 2 → 2.0.0, 2024-02-01 → 20240201.0.0)
arg-import-genericode-license = The licence to write into the manifest (genericode carries none)
cmd-export = Write a package in a standard format (JSON Schema, XDatenfelder 3.0.0, BPMN 2.0)
cmd-export-json-schema = The JSON Schema (2020-12) of a form's submission data, for FIT-Connect
arg-export-output = Write to this file instead of stdout
arg-export-json-schema-offline = Do not contact the registry: included field groups stay open
cmd-export-xdatenfelder = An XDatenfelder 3.0.0 message: a form as a Stammdatenschema, a field group as a Datenfeldgruppe; names what it cannot carry
cmd-export-bpmn = BPMN 2.0 XML of a process, with diagram layout

## The part of a package a diagnostic is about, from its args kind and
## name; the diag- messages refer to these.
subject = { $kind ->
    [code] a code of code list "{ $name }"
    [table] [{ $name }]
    [file] { $name }
    [unnamed_field] a field
    [unnamed_group] a group
    [unnamed_codelist] a code list
    [unnamed_state] a state
    [unnamed_transition] a transition
    [unnamed_fee] a fee
    [unnamed_notice] a notice
    [unnamed_role] a role
   *[other] { subject-kind } "{ $name }"
}
subject-dative = { subject }
subject-kind = { $kind ->
    [field] field
    [group] group
    [codelist] code list
    [code] code
    [state] state
    [transition] transition
    [fee] fee
    [notice] notice
    [role] role
    [table] table
   *[file] file
}

## The text a text.* diagnostic is about, from its args text_kind and key.
text-subject = { $variant ->
    [keyed] the { text-kind } "{ $key }"
   *[bare] the { text-kind }
}
text-kind = { $text_kind ->
    [help] help text
   *[other] { $text_kind }
}

## TOML types in toml.wrong_type, from the args expected and found.
toml-expected = { $expected ->
    [string] a string
    [boolean] true or false
    [integer] an integer
    [string_array] an array of strings
    [table_array] an array of tables
   *[table] a table
}
toml-found = { $found ->
    [array] an array
    [string] a string
    [integer] an integer
    [number] a number
    [boolean] a boolean
    [date] a date
   *[table] a table
}

## Types of values in conditions (expr.*), from the args found,
## left_type and right_type.
expr-found = { $found ->
    [boolean] true/false
    [number] a number
    [text] text
    [date] a date
    [time] a time
    [datetime] a date and time
    [code] a choice from a code list
    [codes] several choices from a code list
    [group] a group
    [file] a file
   *[unknown] unknown
}
expr-left-type = { $left_type ->
    [boolean] true/false
    [number] a number
    [text] text
    [date] a date
    [time] a time
    [datetime] a date and time
    [code] a choice from a code list
    [codes] several choices from a code list
    [group] a group
    [file] a file
   *[unknown] unknown
}
expr-right-type = { $right_type ->
    [boolean] true/false
    [number] a number
    [text] text
    [date] a date
    [time] a time
    [datetime] a date and time
    [code] a choice from a code list
    [codes] several choices from a code list
    [group] a group
    [file] a file
   *[unknown] unknown
}

## FIM kinds in fim.wrong_kind, from the args found and expected.
fim-found = { $found ->
    [field] a field (Datenfeld)
    [group] a group (Datenfeldgruppe)
    [schema] a schema (Stammdatenschema)
   *[document] a document profile
}
fim-expected = { $expected ->
    [field] a field (Datenfeld)
    [group] a group (Datenfeldgruppe)
    [schema] a schema (Stammdatenschema)
   *[document] a document profile
}

## Diagnostics of the package checks: one message per code (the code with
## "." and "_" as "-"), with the diagnostic's args. Rendered with its args,
## each gives exactly the English message the check wrote.

diag-adaptation-lowers-vertrauensniveau = the fork asks for Vertrauensniveau { $level }, but { $package } needs { $required_level }
diag-adaptation-not-allowed = { $package } allows forks { $policy ->
        [alles] any change
        [erweitern] only to extend it
        [einschraenken] only to restrict it
       *[keine] no change but wording
    } (ableitungsmodifikation = "{ $policy }"), but this change { $effect } it: { $change }
diag-adaptation-policy-loosened = { $package } says ableitungsmodifikation = "{ $policy }"; the fork cannot allow more with "{ $own_policy }"
diag-codelist-duplicate-code = code "{ $code }" appears twice in { subject-dative } (first on line { $line })
diag-codelist-empty = { $variant ->
    [neither] { subject } has neither "codes" nor "urn"
   *[no_codes] { subject } has no codes
}
diag-codelist-missing-table = codelist.toml has no [codelist] table
diag-codelist-unknown-column = "{ $column }" is not a column declared with [[column]]
diag-codelist-label-without-column = code "{ $code }" has a label, but the list has no label column
diag-codelist-missing-value = code "{ $code }" has no value for the required column "{ $column }"
diag-codelist-invalid-column = a column id must not be empty
diag-codelist-duplicate-column = the column "{ $column }" is declared twice (first on line { $line })
diag-codelist-invalid-uri = "{ $value }" is not a URI
diag-codelist-invalid-date = "{ $value }" is not a date (YYYY-MM-DD)
diag-codelist-empty-code = { subject } has an empty code
diag-codelist-invalid-urn = "{ $value }" is not a URN
diag-codelist-missing-version = { subject } names an XRepository list but no "version"
diag-codelist-unused = code list "{ $codelist }" is declared but no field uses it
diag-codelist-urn-and-codes = { subject } has both "codes" and "urn"; it is either inline or from the XRepository
diag-codelist-version-without-urn = { subject } has a "version" but its codes are inline
diag-content-missing = { $variant ->
    [file] the package has no { $path }
   *[content] a { $package_kind } package needs a { $file } beside gemeinwerk.toml
}
diag-content-other-kind-file = the package is a { $package_kind } but also has { $file }, which is ignored
diag-content-unresolved-dependency = dependency "{ $package }" = "{ $requirement }" matches no published version
diag-dependency-no-matching-version = dependency "{ $package }" has no published, non-yanked version matching "{ $requirement }"
diag-dependency-not-found = dependency "{ $package }" does not exist in this registry
diag-dependency-unreadable = dependency "{ $package }" resolves to { $version }, whose content cannot be read: { $detail }
diag-expr-group-as-value = { $key } of "{ $path }": "{ $group }" is a group, not a field
diag-expr-invalid-date = { $key } of "{ $path }": "{ $value }" is not a date
diag-expr-invalid-time = { $key } of "{ $path }": "{ $value }" is not a time
diag-expr-not-boolean = { $key } of "{ $path }": a condition must be true or false, but this is { expr-found }
diag-expr-not-ordered = { $key } of "{ $path }": "{ $operator }" only works on numbers, dates and times; "{ $operand }" is { expr-found }
diag-expr-syntax = { $key } of { subject }: { $detail }
diag-expr-type-mismatch = { $key } of "{ $path }": { $variant ->
    [logic] "&&", "||" and "!" need true/false, but "{ $operand }" is { expr-found }
    [literal] { $literal } cannot be compared with { expr-found }
    [compare] "{ $left }" is { expr-left-type } and "{ $right }" is { expr-right-type }; they cannot be compared
    [multi_select] a multi-select holds several choices; compare it with "in"
    [in] "in" needs a value to look up, but "{ $operand }" is { expr-found }
    [years_since] years_since() needs a date, but "{ $operand }" is { expr-found }
    [id_argument] { $function }() takes a field or group id
   *[count] count() counts the entries of a repeatable group or the choices of a multi-select; "{ $operand }" is { expr-found }
}
diag-expr-unknown-code = { $key } of "{ $path }": "{ $code }" is not a code of the field's code list
diag-fieldgroup-empty = the field group has no fields
diag-fieldgroup-missing-label = {""}[fieldgroup] has no label
diag-fieldgroup-missing-table = fieldgroup.toml has no [fieldgroup] table
diag-file-not-utf8 = { $variant ->
    [detail] the file is not UTF-8 text: { $detail }
   *[bare] the file is not UTF-8 text
}
diag-fim-invalid-code = "{ $value }" is no code of "{ $key }" ({ $codes })
diag-fim-invalid-id = "{ $value }" is not a FIM id
diag-fim-invalid-version = FIM version "{ $value }" must be numbers separated by dots, like "1.2"
diag-fim-meta-without-id = { subject } has "{ $key }" but no "fim-id"
diag-fim-version-without-id = { subject } has "fim-version" but no "fim-id"
diag-fim-wrong-kind = "{ $fim_id }" names { fim-found } but is used on { fim-expected }
diag-forked-from-checksum-mismatch = forked-from checksum does not match { $package } (registry has { $checksum })
diag-forked-from-not-found = forked-from names { $package }, which does not exist in this registry
diag-form-account-below-trust-level = { $account } reaches at most Vertrauensniveau { $max_level }, but the form needs { $required_level }
diag-form-codelist-not-a-dependency = field "{ $path }" takes a code list from "{ $package }", which is not a dependency
diag-form-condition-cycle = the conditions depend on each other in a circle: { $cycle }
diag-form-condition-on-repeated-field = { $key } of "{ $path }": "{ $field }" lies inside the repeatable group "{ $group }", so outside it this condition cannot tell which entry is meant
diag-form-duplicate-account = account "{ $account }" is listed twice
diag-form-empty = the form has no fields
diag-form-include-not-a-dependency = group "{ $path }" includes "{ $package }", which is not a dependency
diag-form-include-not-a-fieldgroup = group "{ $path }" includes "{ $package }", which is a { $package_kind }, not a field group
diag-form-invalid-ableitungsmodifikation = ableitungsmodifikation must be "alles", "erweitern", "einschraenken" or "keine" (FIM codes 0 to 3)
diag-form-invalid-vertrauensniveau = Vertrauensniveau "{ $value }" is not one of niedrig, substanziell, hoch
diag-form-missing-form-table = form.toml has no [form] table
diag-form-missing-title = {""}[form] has no title
diag-form-missing-vertrauensniveau = {""}[form] does not say which Vertrauensniveau it needs
diag-form-no-accounts = the form needs Vertrauensniveau { $required_level } but accepts no account to reach it
diag-form-unknown-account = "{ $account }" is not a known account
diag-form-unknown-codelist = { $variant ->
    [undeclared] field "{ $path }" uses code list "{ $codelist }", which is not declared
    [not_in_dependency] "{ $package }" has no code list "{ $codelist }"
    [not_a_codelist] "{ $package }" is a { $package_kind }, not a code list package
    [package] "{ $package }" is a code list package: name it without "#…"
   *[process] "{ $package }" is a process; it has no code lists
}
diag-form-unknown-field-in-condition = { $key } of "{ $path }": unknown field "{ $field }" in condition
diag-lock-unknown-version = lockfile format version { $version } is not known to this gemeinwerk (it reads version { $known })
diag-lock-invalid-name = { $variant ->
        [requirement] requirement
       *[package] package
    } { $detail }
diag-lock-invalid-requirement = "{ $requirement }" is not a version requirement: { $detail }
diag-lock-duplicate-package = { $package } is locked twice
diag-lock-invalid-version = version "{ $version }" of { $package } is not a semantic version: { $detail }
diag-lock-invalid-cksum = cksum of { $package } must be a SHA-256 in 64 lowercase hex digits, not "{ $value }"
diag-lock-invalid-registry = registry of { $package } must be an http:// or https:// URL, not "{ $value }"
diag-lock-incomplete = { $variant ->
        [required] { $package } is required but not locked
       *[dependency] { $package } depends on { $dependency }, which is not locked
    }
diag-manifest-description-too-long = the description has more than { $limit } characters; put details into the README
diag-manifest-invalid-dependency = dependency { $detail }
diag-manifest-invalid-fim-id = {""}[fim] id "{ $fim_id }" is not the id of a FIM Stammdatenschema, Datenfeldgruppe or Dokumentsteckbrief
diag-manifest-invalid-fim-version = {""}[fim] version "{ $value }" must be numbers separated by dots, like "1.2"
diag-manifest-invalid-forked-from = { $variant ->
    [name] forked-from package { $detail }
   *[version] forked-from version "{ $version }" must be an exact version: { $detail }
}
diag-manifest-invalid-keyword = keyword "{ $keyword }" must have 1 to 40 characters
diag-manifest-invalid-kind = kind "{ $value }" is not known; it must be "form", "process" or "fieldgroup"
diag-manifest-invalid-leika = leika "{ $value }" is not a Leistungsschlüssel: it must be 14 digits
diag-manifest-invalid-license = license "{ $value }" is not an SPDX expression: { $detail }
diag-manifest-invalid-name = package { $detail }
diag-manifest-invalid-themenfeld = themenfeld "{ $value }" is not one of the 14 OZG Themenfelder
diag-manifest-invalid-url = { $key } "{ $value }" { $variant ->
    [not_url] is not a URL: { $detail }
    [scheme] must start with https:// or http://, not { $scheme }:
    [no_host] has no host
   *[credentials] must not contain a user name or password
}
diag-manifest-invalid-version = version "{ $version }" is not a semantic version: { $detail }
diag-manifest-invalid-version-req = "{ $requirement }" is not a version requirement: { $detail }
diag-manifest-missing = the package has no gemeinwerk.toml
diag-manifest-missing-description = { $variant ->
    [empty] the description is empty
   *[absent] the package has no description; say in one or two sentences what it is for
}
diag-manifest-missing-license = the package has no license
diag-manifest-missing-package = the manifest has no [package] table; a package needs name, version, kind, description and license
diag-manifest-missing-readme = readme = "{ $path }" names a file that is not in the package
diag-manifest-missing-themenfeld = no themenfeld given; the package will not show when people browse by Themenfeld
diag-manifest-no-readme = the package has no README.md; other municipalities read it before they adopt a package
diag-manifest-placeholder-title = title "{ $title }" still holds the placeholder "…" of `gemeinwerk new`: write the real title
diag-manifest-self-dependency = the package depends on itself ("{ $package }")
diag-manifest-too-many-keywords = { $count } keywords given; at most { $limit } are allowed
diag-merge-invalid-toml = { $file } is not valid TOML: { $detail }
diag-merge-kind-mismatch = the packages are of different kinds ({ $ours } here, { $theirs } upstream)
diag-merge-missing-file = { $file } is missing
diag-merge-no-such-conflict = there is no open conflict "{ $path }"
diag-merge-open-conflict = the merge left a conflict open: { $path } ({ $file }): base { $base ->
        [deleted] (deleted)
       *[other] { $base }
    }, ours { $ours ->
        [deleted] (deleted)
       *[other] { $ours }
    }, theirs { $theirs ->
        [deleted] (deleted)
       *[other] { $theirs }
    }
diag-merge-path-not-found = "{ $path }" names nothing in { $file }
diag-model-constraint-not-applicable = { $variant ->
    [type] "{ $key }" does not apply to { subject } of type "{ $field_type }"
    [static_required] static text cannot be required
    [text_on_input] "text" is for static-text fields; { subject } is an input
    [static_examples] static text has no examples
    [fixed] { subject } cannot have a fixed value
   *[bound] "{ $key }" does not apply to field "{ $path }" of type "{ $field_type }"
}
diag-model-invalid-fixed = the fixed value "{ $value }" is not a valid value of { subject }
diag-model-default-ignored = default values are not supported yet and are ignored
diag-model-duplicate-id = id "{ $name }" is used twice in { $variant ->
    [top_level] the top level
   *[group] group "{ $group }"
} (first on line { $line })
diag-model-empty-group = { subject } has no fields
diag-model-empty-text = "{ $key }" of { subject } is empty
diag-model-english-without-german = { subject } has "{ $key }-en" but no "{ $key }"; the German text is required
diag-model-example-does-not-match = { $variant ->
    [pattern] example "{ $example }" does not match the pattern of { subject }
   *[length] example "{ $example }" has a length outside min-length/max-length
}
diag-model-file-without-media-types = { subject } accepts any kind of file
diag-model-include-with-fields = { subject } includes "{ $package }" and also has fields of its own
diag-model-invalid-bound = { $variant ->
    [integer] "{ $key }" of integer field "{ $path }" must be an integer
    [number] "{ $key }" of field "{ $path }" must be a number
    [date] "{ $key }" of date field "{ $path }" is "{ $value }", neither a date nor relative to today
   *[date_or_time] "{ $key }" of field "{ $path }" must be a date in quotes ("2025-01-31", "today-P18Y") or a time ("08:30")
}
diag-model-invalid-id = { subject-kind } id "{ $name }" must start with a–z and use only a–z, 0–9 and "_"
diag-model-invalid-include = include { $detail }
diag-model-invalid-legal-basis = "legal-basis" of { subject } must be a list of norms, each a string or {"{"} text = "…", link = "https://…" {"}"}
diag-model-invalid-media-type = "{ $value }" is not a media type
diag-model-invalid-occurs = { $detail }
diag-model-invalid-pattern = the pattern of { subject } is not a valid regular expression: { $detail }
diag-model-invalid-size = { $detail }
diag-model-min-greater-than-max = { $variant ->
    [length] { subject }: min-length { $min } is greater than max-length { $max }
   *[value] { subject }: min { $min } is greater than max { $max }
}
diag-model-missing-codelist = { subject } is a { $field_type } but names no codelist
diag-model-missing-label = { subject } has no label
diag-model-negative-length = "{ $key }" cannot be negative
diag-model-required-and-required-when = { subject } is always required, so its required-when has no effect
diag-model-required-on-group = groups are not "required"; { subject } says how often it occurs with "occurs"
diag-model-static-without-text = { subject } is static text but has no "text"
diag-model-unknown-type = field type "{ $value }" is not known
diag-package-deprecated = the package is deprecated: { $detail }
diag-path-too-long = the archive path "{ $path }" does not fit a tar header: the file name may have at most { $name_limit } bytes, the folders before it at most { $prefix_limit }
diag-process-duplicate-id = { subject } is declared twice (first on line { $line })
diag-process-fee-without-legal-basis = { subject } names no legal basis
diag-process-form-not-a-dependency = transition "{ $transition }" uses the form "{ $package }", which is not a dependency
diag-process-invalid-amount = { $detail }
diag-process-invalid-duration = { $detail }
diag-process-invalid-outcome = "{ $value }" is not an outcome; an end is bewilligt, abgelehnt or zurückgezogen
diag-process-missing-label = { subject } has no label
diag-process-missing-process-table = process.toml has no [process] table
diag-process-missing-title = {""}[process] has no title
diag-process-multiple-starts = state "{ $state }" is a second start; "{ $first_state }" is already one
diag-process-no-end = no state is an end
diag-process-no-roles = the process declares no [roles]
diag-process-no-start = no state is the start
diag-process-no-states = the process has no [[state]]
diag-process-no-way-to-end = from state "{ $state }" no end can be reached: a procedure there would never finish
diag-process-not-a-form = "{ $package }" is a { $package_kind }, not a form
diag-process-start-is-end = state "{ $state }" is both the start and an end
diag-process-transition-from-end = transition "{ $transition }" leaves "{ $state }", which is an end ({ $outcome }); nothing leaves an end
diag-process-unknown-action = action "{ $action }" is not one of the known actions
diag-process-unknown-role = transition "{ $transition }" is done by "{ $role }", which is not a role
diag-process-unknown-state = transition "{ $transition }" goes { $direction } "{ $state }", which is not a state
diag-process-unknown-transition = { $variant ->
    [fee] fee "{ $name }" is charged on "{ $transition }", which is not a transition
   *[notice] notice "{ $name }" is produced on "{ $transition }", which is not a transition
}
diag-process-unreachable-state = state "{ $state }" cannot be reached from the start "{ $start_state }"
diag-process-unused-role = role "{ $role }" does no transition
diag-readme-too-large = the README has { $size } bytes; at most { $limit } are allowed
diag-semver-insufficient-bump = version { $new } is a { $given } bump over { $old }, but the changes need a { $needed } bump: at least { $minimum }{ $changes }
diag-semver-not-greater = version { $new } is not greater than the published version { $old }
diag-semver-unchecked = the version bump was not checked: { $package }@{ $version } cannot be read with today's rules
diag-text-control-character = { text-subject } contains the control character U+{ $code_point }; only newlines and tabs are allowed
diag-text-too-long = { text-subject } has { $length } characters; at most { $limit } are allowed
diag-text-too-many-keywords = there are { $count } keywords; at most { $limit } are allowed
diag-toml-date-literal = dates and times are written as strings in gemeinwerk files
diag-toml-missing-key = { subject } has no "{ $key }"
diag-toml-syntax = { $detail }
diag-toml-unknown-key = unknown key "{ $key }" in { subject-dative }
diag-toml-wrong-type = { $variant ->
    [codes] "codes" of { subject } must be an array of {"{"} code = …, label = … {"}"}
    [labels] [{ $key }] must be a table of id = "label"
    [role] role "{ $role }" must be a label in quotes, not { toml-found }
    [table] { subject } must be a table, not { toml-found }
   *[key] "{ $key }" of { subject } must be { toml-expected }, not { toml-found }
}
diag-version-not-taggable = version { $version } cannot be a git tag (a pre-release or build part may not end in ".lock"); choose another version

# Suggestions (`hint-<id>`), worded from a diagnostic's hint id and args.
hint-snippet = { $snippet }
hint-did-you-mean = did you mean "{ $word }"?
hint-add-dependency = add "{ $package }" = "^1" to [dependencies] in gemeinwerk.toml
hint-requirement-examples = for example "^1.2" or "=1.0.3"
hint-known-keys = known keys: { $items }
hint-known-types = types: { $items }
hint-known-actions = known actions: { $items }
hint-known-accounts = accounts: { $items }
hint-known-functions = functions: { $items }
hint-known-codes = codes: { $items }
hint-known-themenfelder = one of: { $items }
hint-code-count = the list has { $count } codes
hint-quote-dates = put the date in quotes, for example "2025-01-01"
hint-for-example = for example "{ $example }"
hint-fim-id-form = FIM ids are a letter and 11 digits (XDatenfelder 3, "{ $letter }60000000243") or 8 digits (XDatenfelder 2, "{ $letter }00000243")
hint-fim-ref-form = a letter S, G or D and 8 digits (XDatenfelder 2, "S00000036") or 11 digits (XDatenfelder 3, "G60000000088")
hint-fim-occurs = FIM occurrences: "0:1" optional, "1:1" once, "1:*" at least once, "2:5" two to five times
hint-group-beside-include = put the extra fields into a group of their own beside the included one
hint-add-group-fields = add [[group.field]] tables or include a field group with include = "ns/name"
hint-regex-syntax = patterns use Rust regex syntax (no look-around, no backreferences); see docs/package-format.md
hint-media-type-examples = for example "application/pdf", "image/jpeg" or "image/*"
hint-max-size-example = for example max-size = "10 MB"
hint-label-in-german = label = "…" in German (label-en for English)
hint-use-help = use "help" for explanations next to an input
hint-remove-required = remove required = true or the required-when condition
hint-date-bounds = write "2025-01-31", "today", "today+P1Y" or "today-P18Y"
hint-date-form = write dates as "YYYY-MM-DD", for example "2025-01-31"
hint-time-form = write times as "HH:MM", for example "08:30"
hint-start-form = start with [form], title = "…" and vertrauensniveau = "niedrig" | "substanziell" | "hoch"
hint-start-process = start with [process] and title = "…"
hint-start-codelist = start with [codelist] and label = "…"
hint-known-columns = declared columns: { $items }
hint-start-fieldgroup = start with [fieldgroup] and label = "…"
hint-vertrauensniveau-values = vertrauensniveau = "niedrig", "substanziell" or "hoch" (eIDAS level of assurance)
hint-add-fields = add [[field]] or [[group]] tables
hint-count-repeated = use count({ $group }) or move the condition into "{ $group }"
hint-declare-codelist = declare it with [codelist.{ $codelist }], name a code list package ("ns/name") or take one from a dependency: "ns/name#{ $codelist }"
hint-no-self-condition = a field cannot be shown or required depending on itself
hint-declare-role = declare it under [roles]: { $role } = "…"
hint-mark-start = mark the first state with start = true ("{ $state }"?)
hint-mark-ends = mark the final states with end = "bewilligt", "abgelehnt" or "zurückgezogen"
hint-add-transition-into = add a transition into it, or remove it
hint-add-transition-to-end = add a transition towards an end (for example to "abgelehnt" or "zurückgezogen")
hint-codes-or-urn = list the codes inline (codes = [{"{"} code = "A", label = "…" {"}"}]) or name an XRepository list with urn and version
hint-urn-example = XRepository code lists are named like "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:staat"
hint-pin-codelist-version = pin the version of the code list, for example version = "2024-02-01"
hint-allow-lower-level = if that is intended, say so with lowers-vertrauensniveau = true under [package] in gemeinwerk.toml
hint-undo-or-ask = undo the change, or ask the upstream publisher to allow it
hint-semver-form = write it as MAJOR.MINOR.PATCH, for example "1.0.0"
hint-license-eupl = license = "EUPL-1.2" is common in the German public sector
hint-license-examples = for example "EUPL-1.2" or "MIT OR Apache-2.0"
hint-relock = run `gemeinwerk lock` to write it anew
hint-resolve-conflict = gemeinwerk upstream resolve { $path } --ours (or --theirs), or edit { $file } and delete the entry
hint-compare-with = compare with "=="
hint-ascii-ids = field ids use a–z, 0–9 and "_" only (ä → ae, ö → oe, ü → ue, ß → ss); put text values in quotes
hint-write-operator = write "{ $operator }"
hint-combine-conditions = combine conditions with "&&" or "||"
hint-is-set-or-count = use is_set({ $path }) or count({ $path })
hint-write-in-list = write { $value } in [ … ]

# What our own parsers found (`cause-<id>`), the `detail` of a diagnostic.
cause-slug-length = { $part ->
        [namespace] {"namespace "}
        [name] {"name "}
       *[none] {""}
    }"{ $value }" must be 1 to 64 characters long
cause-slug-character = { $part ->
        [namespace] {"namespace "}
        [name] {"name "}
       *[none] {""}
    }"{ $value }" contains { $character }; only lowercase a–z, 0–9 and "-" are allowed
cause-slug-dash = { $part ->
        [namespace] {"namespace "}
        [name] {"name "}
       *[none] {""}
    }"{ $value }" must not start with "-"
cause-full-name-form = "{ $value }" must be written as namespace/name, for example "kassel/bewohnerparkausweis"
cause-occurs-form = "{ $value }" is not an occurrence like "0:1", "1:*" or "2:5"
cause-occurs-min = "{ $part }" in "{ $value }" is not a number
cause-occurs-max = "{ $part }" in "{ $value }" is not a number or "*"
cause-occurs-zero = "{ $value }": a group that occurs at most 0 times is never shown
cause-occurs-order = "{ $value }": the minimum { $min } is greater than the maximum { $max }
cause-duration-form = "{ $value }" is not an ISO 8601 duration (for example "P14D", "P3M", "P1Y", "PT48H")
cause-size-form = "{ $value }" is not a size like "10 MB"
cause-size-unit = "{ $unit }" is not a size unit (B, kB, MB, GB, KiB, MiB, GiB)
cause-size-small = "{ $value }" is smaller than one byte
cause-size-type = max-size must be a size like "10 MB" or a number of bytes
cause-amount-form = "{ $value }" is not an amount in EUR like "30.70"
cause-amount-decimals = { $value } has more than two decimal places
cause-amount-type = the amount must be given in EUR, like "30.70"
cause-lone-operator = "{ $operator }" alone is not an operator
cause-unclosed-text = this text has no closing quote
cause-not-a-number = "{ $value }" is not a number
cause-unexpected-character = unexpected character { $character }
cause-expected-found = expected { $expected ->
        [list_start] "[" and a list of values
        [list_next] "," or "]"
       *[paren_close] ")"
    }, found { $found_kind ->
        [text] the text "{ $found }"
        [number] the number { $found }
       *[token] "{ $found }"
    }
cause-expected-end = expected { $expected ->
        [list_start] "[" and a list of values
        [list_next] "," or "]"
       *[paren_close] ")"
    }, but the condition ends
cause-not-an-operator = "{ $word }" is not an operator here
cause-in-after-not = expected "in" after "not"
cause-empty-list = the list after "in" is empty
cause-minus-number = "-" must be followed by a number
cause-expected-value-found = expected a value (text in quotes, a number, true or false), found { $found_kind ->
        [text] the text "{ $found }"
        [number] the number { $found }
       *[token] "{ $found }"
    }
cause-expected-value-end = expected a value, but the condition ends
cause-unknown-function = unknown function "{ $function }"
cause-argument-count = { $function }() takes { $takes ->
        [none] 0 arguments
       *[one] 1 argument
    }, not { $given }
cause-dot-field = a "." must be followed by a field id
cause-expected-operand-found = expected a field, a value or "(", found { $found_kind ->
        [text] the text "{ $found }"
        [number] the number { $found }
       *[token] "{ $found }"
    }
cause-ends-early = the condition ends too early
cause-empty-condition = the condition is empty
cause-trailing = unexpected { $found_kind ->
        [text] the text "{ $found }"
        [number] the number { $found }
       *[token] "{ $found }"
    } after a complete condition
