# The command line's English messages. Same ids as de.ftl (a test checks).
error = error: { $message }
registry-failed = the registry failed: { $message }
no-token = no API token: set GEMEINWERK_TOKEN or run `gemeinwerk login`
unreachable = cannot reach the registry at { $registry }{ $hint }
valid = { $label } is valid
valid-without-deps = { $label } is valid (without its dependencies)
publish-dry-run = { $label } is ready to publish (dry run, nothing uploaded); sha256 { $cksum }
published = published { $label }
warning = warning: { $message }
search-summary = { $shown } of { $total ->
    [one] { $total } package
   *[other] { $total } packages
}
deprecated-mark = [deprecated]
info-deprecated = DEPRECATED: { $message }
info-downloads = { $count ->
    [one] { $count } download
   *[other] { $count } downloads
}
info-yanked = yanked: { $reason }
info-no-reason = no reason given
info-forked-from = forked from { $upstream }
lock-updated = updated { $name } { $from } → { $to }
lock-locked = locked { $name } { $version }
lock-summary = { $count ->
    [one] { $count } package
   *[other] { $count } packages
} in { $path } (index: { $fetched } fetched, { $unchanged } unchanged)
fetch-summary = fetched { $count ->
    [one] { $count } package
   *[other] { $count } packages
} into { $dest }: { $downloaded } downloaded ({ $bytes } bytes), { $cached } from the cache
