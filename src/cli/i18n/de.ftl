# Die deutschen Meldungen der Kommandozeile. Dieselben Ids wie en.ftl.
error = Fehler: { $message }
registry-failed = die Registry hat einen Fehler: { $message }
no-token = kein API-Token: GEMEINWERK_TOKEN setzen oder `gemeinwerk login` aufrufen
unreachable = die Registry unter { $registry } ist nicht erreichbar{ $hint }
valid = { $label } ist gültig
valid-without-deps = { $label } ist gültig (ohne seine Abhängigkeiten zu prüfen)
publish-dry-run = { $label } kann veröffentlicht werden (Probelauf, nichts hochgeladen); sha256 { $cksum }
published = { $label } veröffentlicht
warning = Warnung: { $message }
search-summary = { $shown } von { $total ->
    [one] { $total } Paket
   *[other] { $total } Paketen
}
deprecated-mark = [abgekündigt]
info-deprecated = ABGEKÜNDIGT: { $message }
info-downloads = { $count ->
    [one] { $count } Download
   *[other] { $count } Downloads
}
info-yanked = zurückgezogen: { $reason }
info-no-reason = ohne Begründung
info-forked-from = abgeleitet von { $upstream }
lock-updated = aktualisiert { $name } { $from } → { $to }
lock-locked = festgelegt { $name } { $version }
lock-summary = { $count ->
    [one] { $count } Paket
   *[other] { $count } Pakete
} in { $path } (Index: { $fetched } geladen, { $unchanged } unverändert)
fetch-summary = { $count ->
    [one] { $count } Paket
   *[other] { $count } Pakete
} nach { $dest } geholt: { $downloaded } heruntergeladen ({ $bytes } Bytes), { $cached } aus dem Cache
