"""The syncer's texts for people (errors, status, the sync CLI commands), in Swedish and English."""

from __future__ import annotations

SYNCER_MESSAGES: dict[str, dict[str, str]] = {
    # --- errors ---------------------------------------------------------------------------
    "syncer.error": {
        "sv": "Synkroniseringen misslyckades.",
        "en": "Synchronisation failed.",
    },
    "syncer.offline": {
        "sv": "Servern {server} går inte att nå just nu. Allt finns kvar lokalt och skickas när anslutningen är tillbaka.",
        "en": "The server {server} cannot be reached right now. Everything is kept locally and sent when the connection is back.",
    },
    "syncer.unauthorized": {
        "sv": "Servern {server} godtar inte längre den här enheten (återkallad eller okänd). Dina data går fortfarande att läsa här, och osända ändringar finns kvar. Kontakta organisationens administratör för en ny registreringskod.",
        "en": "The server {server} no longer accepts this device (revoked or unknown). Your data is still readable here, and unsent changes are kept. Ask your organisation's administrator for a new enrollment code.",
    },
    "syncer.enroll_refused": {
        "sv": "Registreringskoden godtogs inte (fel, redan använd eller för gammal): {reason}. Be administratören om en ny kod.",
        "en": "The enrollment code was not accepted (wrong, already used or expired): {reason}. Ask your administrator for a new code.",
    },
    "syncer.rate_limited": {
        "sv": "Servern {server} ber oss vänta ({seconds} s) innan nästa försök.",
        "en": "The server {server} asks us to wait ({seconds} s) before trying again.",
    },
    "syncer.busy": {
        "sv": "Servern {server} kan inte svara just nu. Nytt försök görs automatiskt.",
        "en": "The server {server} cannot answer right now. It will be tried again automatically.",
    },
    "syncer.resync_required": {
        "sv": "Servern {server} kräver en full nedladdning; osända ändringar behålls.",
        "en": "The server {server} requires a full download; unsent changes are kept.",
    },
    "syncer.client_too_old": {
        "sv": "Den här versionen av Samverka är för gammal för servern {server}: {reason} Uppdatera programmet. Det fungerar under tiden som vanligt utan synkronisering.",
        "en": "This version of Samverka is too old for the server {server}: {reason} Update the program. Until then it works as usual without synchronisation.",
    },
    "syncer.tls": {
        "sv": "Servern {server} kunde inte verifieras mot CA-certifikatet i {ca}. Kontrollera att adressen och CA-filen är organisationens rätta; anslutningen avbröts utan att något skickades.",
        "en": "The server {server} could not be verified against the CA certificate in {ca}. Check that the address and the CA file are your organisation's; the connection was stopped and nothing was sent.",
    },
    "syncer.tls_no_ca": {
        "sv": "Servern {server} kunde inte verifieras mot systemets betrodda certifikat. Ange organisationens CA-certifikat med --ca FIL; anslutningen avbröts utan att något skickades.",
        "en": "The server {server} could not be verified against the system's trusted certificates. Give your organisation's CA certificate with --ca FILE; the connection was stopped and nothing was sent.",
    },
    "syncer.tls_ca_unreadable": {
        "sv": "CA-filen {ca} för servern {server} går inte att läsa eller innehåller inget PEM-certifikat.",
        "en": "The CA file {ca} for the server {server} cannot be read or holds no PEM certificate.",
    },
    "syncer.protocol": {
        "sv": "Servern {server} svarade något som den här versionen inte förstår. Försök igen senare; kvarstår felet, kontakta administratören.",
        "en": "The server {server} answered something this version does not understand. Try again later; if it persists, contact your administrator.",
    },
    "syncer.refused": {
        "sv": "Servern {server} avvisade begäran: {reason}",
        "en": "The server {server} refused the request: {reason}",
    },
    "syncer.too_large": {
        "sv": "Servern {server} tyckte att sändningen var för stor.",
        "en": "The server {server} found the request too large.",
    },
    "syncer.redirect": {
        "sv": "Servern {server} hänvisar till {location}. Kontrollera serveradressen.",
        "en": "The server {server} redirects to {location}. Check the server address.",
    },
    "syncer.bad_url": {
        "sv": "”{url}” är ingen serveradress. Skriv den som https://server.exempel.se",
        "en": "“{url}” is not a server address. Write it as https://server.example.org",
    },
    "syncer.insecure_url": {
        "sv": "”{url}” använder okrypterad http. Använd https:// (http godtas bara mot den egna datorn).",
        "en": "“{url}” uses unencrypted http. Use https:// (http is accepted only for this computer).",
    },
    "syncer.not_enrolled": {
        "sv": "Valvet är inte kopplat till någon server. Registrera enheten först: samverka enroll --server URL --code KOD",
        "en": "The vault is not connected to a server. Enroll the device first: samverka enroll --server URL --code CODE",
    },
    "syncer.already_running": {
        "sv": "En synkronisering pågår redan.",
        "en": "A synchronisation is already running.",
    },
    "syncer.demo_vault": {
        "sv": "Det här valvet innehåller den lokala demoregionen och står för sig självt; det kan inte kopplas till en server. Skapa ett nytt valv för servern: samverka --data-dir NY_MAPP init. (En gemensam demoregion på en server är vad samverka-server demo är till för.)",
        "en": "This vault holds the local demo region and stands alone; it cannot be connected to a server. Create a fresh vault for the server: samverka --data-dir NEW_FOLDER init. (A shared demo region on a server is what samverka-server demo is for.)",
    },
    "syncer.already_enrolled": {
        "sv": "Valvet är redan registrerat som enhet {device} hos {server}. Skapa ett nytt valv för en annan registrering: samverka --data-dir NY_MAPP init",
        "en": "The vault is already enrolled as device {device} with {server}. Create a fresh vault for another enrollment: samverka --data-dir NEW_FOLDER init",
    },
    # --- the CLI --------------------------------------------------------------------------
    "syncer.enrolled": {
        "sv": "Enheten är registrerad hos {server} som {device} ({organisation}, roll {role}).",
        "en": "The device is enrolled with {server} as {device} ({organisation}, role {role}).",
    },
    "syncer.state.offline": {"sv": "ingen förbindelse", "en": "offline"},
    "syncer.state.syncing": {"sv": "synkroniserar", "en": "syncing"},
    "syncer.state.idle": {"sv": "i fas", "en": "up to date"},
    "syncer.state.error": {"sv": "fel", "en": "error"},
    "syncer.state.unauthorized": {"sv": "enheten är inte behörig (återkallad)", "en": "device not authorised (revoked)"},
    "syncer.state.not_enrolled": {"sv": "inte registrerad", "en": "not enrolled"},
    "syncer.status.server": {"sv": "Server:            {value}", "en": "Server:            {value}"},
    "syncer.status.device": {"sv": "Enhet:             {value}", "en": "Device:            {value}"},
    "syncer.status.organisation": {"sv": "Organisation:      {value}", "en": "Organisation:      {value}"},
    "syncer.status.state": {"sv": "Läge:              {value}", "en": "State:             {value}"},
    "syncer.status.outbox": {"sv": "Osända ändringar:  {value}", "en": "Unsent changes:    {value}"},
    "syncer.status.rejected": {"sv": "Avvisade:          {value}", "en": "Rejected:          {value}"},
    "syncer.status.conflicts": {"sv": "Olösta konflikter: {value}", "en": "Open conflicts:    {value}"},
    "syncer.status.last_success": {"sv": "Senast i fas:      {value}", "en": "Last synced:       {value}"},
    "syncer.status.last_error": {"sv": "Senaste fel:       {value}", "en": "Last error:        {value}"},
    "syncer.status.never": {"sv": "aldrig", "en": "never"},
    "syncer.sync_done": {
        "sv": "Synkroniserat: {pushed} skickade, {pulled} hämtade, {conflicts} nya konflikter, {rejected} avvisade.",
        "en": "Synchronised: {pushed} sent, {pulled} received, {conflicts} new conflicts, {rejected} rejected.",
    },
    "syncer.rejected_line": {
        "sv": "  avvisad: {collection} {record} – {reason}",
        "en": "  rejected: {collection} {record} – {reason}",
    },
    "syncer.repaired": {
        "sv": "Kontrollsumman skilde sig för {collections}; allt hämtades på nytt.",
        "en": "The checksum differed for {collections}; everything was downloaded again.",
    },
    "syncer.open_conflicts_hint": {
        "sv": "{count} olösta konflikter – visa dem med: samverka conflicts",
        "en": "{count} open conflicts – list them with: samverka conflicts",
    },
    "syncer.no_conflicts": {"sv": "Inga olösta konflikter.", "en": "No open conflicts."},
    "syncer.conflict_line": {
        "sv": "{id}  {collection} ”{title}”, fält {field}\n    behållet: {kept!r}  ({kept_device}, {kept_when})\n    andra:    {other!r}  ({other_device}, {other_when})",
        "en": "{id}  {collection} “{title}”, field {field}\n    kept:  {kept!r}  ({kept_device}, {kept_when})\n    other: {other!r}  ({other_device}, {other_when})",
    },
    "syncer.conflict_not_found": {
        "sv": "Ingen konflikt med id {id}. Lista dem med: samverka conflicts",
        "en": "No conflict with id {id}. List them with: samverka conflicts",
    },
    "syncer.conflict_already_resolved": {
        "sv": "Konflikten {id} är redan löst.",
        "en": "The conflict {id} is already resolved.",
    },
    "syncer.conflict_record_gone": {
        "sv": "Posten som konflikten gäller är raderad. Skapa en ny post med värdet om det ska återställas, och lös konflikten med --keep kept.",
        "en": "The record in conflict has been deleted. Create a new record with the value to restore it, and resolve the conflict with --keep kept.",
    },
    "syncer.resolved": {
        "sv": "Konflikten {id} är löst ({field} = {value!r}); ändringen skickas vid nästa synkronisering.",
        "en": "The conflict {id} is resolved ({field} = {value!r}); the change is sent at the next synchronisation.",
    },
    "syncer.this_device": {"sv": "den här enheten", "en": "this device"},
    "syncer.reason.unknown_field": {"sv": "okänt fält", "en": "unknown field"},
    "syncer.reason.int": {"sv": "ett heltal behövs", "en": "a whole number is needed"},
    "syncer.reason.bool": {"sv": "skriv ja eller nej", "en": "write yes or no"},
    "syncer.bad_value": {
        "sv": "Värdet passar inte fältet {field}: {reason}",
        "en": "The value does not fit the field {field}: {reason}",
    },
}
