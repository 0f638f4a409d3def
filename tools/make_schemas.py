"""The JSON Schema of every command's ``--json`` output, written out as hivetool/schemas/*.json,
and the README section that documents their fields.

    .venv/bin/python tools/make_schemas.py          # rewrite the schema files
    .venv/bin/python tools/make_schemas.py --readme # print the README section

tests/test_json_schemas.py checks that the files and README match what this script makes, and
that every command's output validates against its schema.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "hivetool" / "schemas"
DRAFT = "https://json-schema.org/draft/2020-12/schema"


def obj(description: str, props: dict, required: list[str] | None = None, open_: bool = False) -> dict:
    """An object whose fields are ``props`` (name -> schema with a description)."""
    return {"type": "object", "description": description, "properties": props,
            "required": list(props) if required is None else required, "additionalProperties": open_}


def s(description: str, kind="string", **more) -> dict:
    return {"type": kind, "description": description, **more}


def arr(description: str, items: dict) -> dict:
    return {"type": "array", "description": description, "items": items}


NULLABLE_STR = ["string", "null"]
DATA = obj("A value's type and data.", {
    "type": s("Type name (REG_DWORD, ..., or 0x... for other numbers)."),
    "type_id": s("Type number.", "integer"),
    "data": s("Decoded data: a number, a string, a list of strings, or hex for other types.",
              ["integer", "string", "array"]),
    "raw": s("The stored bytes, hex."),
})
NULL_DATA = {"anyOf": [DATA, {"type": "null"}], "description": "As `new`; null when there is none."}
VALUE = obj("One value.", {
    "name": s("Value name ('' is the default value)."),
    "type": s("Type name."),
    "type_id": s("Type number.", "integer"),
    "size": s("Data size in bytes.", "integer"),
    "data": s("Decoded data (see `raw` for the bytes).", ["integer", "string", "array"]),
    "raw": s("The stored bytes, hex."),
})
KEY = obj("One key.", {
    "path": s("Path inside the hive (a hive file) or full registry path (an image)."),
    "name": s("Key name."),
    "last_write": s("Last-write time, ISO 8601 (null for a key that lists an image's hives).", NULLABLE_STR),
    "last_write_filetime": s("The same time as stored: FILETIME, 100 ns ticks since 1601 (null as above).",
                             ["integer", "null"]),
    "subkeys": arr("Names of the subkeys.", {"type": "string"}),
    "class": s("Class name, when the key has one."),
    "values": arr("The values.", VALUE),
}, required=["path", "name", "last_write", "last_write_filetime", "subkeys", "values"])
CHANGE = obj("One change.", {
    "path": s("The key, as messages name it."),
    "name": s("Value name; null for a change of a key.", NULLABLE_STR),
    "action": s("created, updated, unchanged, deleted, or exists (a key that was there already)."),
    "old": NULL_DATA,
    "new": NULL_DATA,
    "type_changed": s("The value's type changed (values only).", "boolean"),
    "keys": s("Keys deleted, the key itself included (rm of a key).", "integer"),
}, required=["path", "name", "action", "old", "new"])
FINDING = obj("A validation finding.", {
    "code": s("Finding code (P-RANGE, ...)."),
    "level": s("error, warning or notice."),
    "setting": s("The setting it is about.", NULLABLE_STR),
    "message": s("What is wrong."),
    "source": s("Where the rule comes from (KB article, RFC).", NULLABLE_STR),
}, open_=True)
PROBLEM = obj("What could not be read.", {
    "hive": s("The hive file (an image: its path in the image)."),
    "offset": s("File offset (null where none can be named).", ["integer", "null"]),
    "message": s("What could not be read, and why.")})
RECOVERED = obj("One deleted key or value.", {
    "kind": s("key or value."), "offset": s("File offset of its record's cell.", "integer"),
    "hive": s("The hive file (an image: its path in the image)."),
    "path": s("The key (a value's: the key it belonged to): its path in the hive, or for an image the full registry "
              "path; as far as it could be followed when `partial`."),
    "partial": s("The path could not be followed to the hive's root ('' with a value: its key is unknown).",
                 "boolean"),
    "name": s("Key or value name ('' is the default value)."),
    "last_write": s("The key's last-write time, ISO 8601 (a value: its key's; null when unknown).", NULLABLE_STR),
    "last_write_filetime": s("The same, as stored (FILETIME).", ["integer", "null"]),
    "type": s("Value type name (null for a key).", NULLABLE_STR),
    "type_id": s("Value type number (null for a key).", ["integer", "null"]),
    "size": s("Data size the value record states (null for a key).", ["integer", "null"]),
    "data": s("Decoded data, as ls --json shows it (null for a key, or when gone).",
              ["integer", "string", "array", "null"]),
    "raw": s("The data's bytes as found, hex (null for a key, or when gone).", NULLABLE_STR),
    "state": s("intact, partly overwritten or gone: a value's data; a key's values, through its value list."),
    "damage": s("Why the state is not intact (null when it is).", NULLABLE_STR),
    "found_in": s("Where the record was: a free cell, the slack of a live cell, an allocated cell nothing reaches, "
                  "past the last hive bin, a damaged bin."),
    "evidence": arr("Why it was taken for a record Windows wrote: the rules it passed, and how its key was found.",
                    {"type": "string"})})
LOSS = obj("A value the written .reg file does not carry exactly.", {
    "key": s("Key."), "name": s("Value name.", NULLABLE_STR), "reason": s("Why."),
})
STATE_CHANGE = obj("One change made by apply.", {
    "origin": s("file:line of the item that asked for it."), "kind": s("value, key, absent or exact."),
    "path": s("The key, full registry path."), "name": s("Value name; null for a key.", NULLABLE_STR),
    "action": s("created, updated or deleted."), "old": NULL_DATA, "new": NULL_DATA,
    "type_changed": s("The value's type changed.", "boolean"), "setting": s("A ports setting's name."),
    "keys": s("A deleted key: keys removed.", "integer"),
}, required=["origin", "kind", "path", "name", "action", "old", "new"])
FILE = obj("A file and its digest.", {"path": s("Path."), "sha256": s("SHA-256, hex."), "size": s("Bytes.", "integer")})
WRITE = {
    "command": s("The command."),
    "target": s("The TARGET as given."),
    "in_place": s("--in-place was given.", "boolean"),
    "changed": s("Whether any hive changed; false: nothing written in place, -o got an unchanged copy.",
                 "boolean"),
    "written": arr("Files written (with -o when nothing changed: the unchanged copy).", {"type": "string"}),
    "warnings": arr("Warnings.", {"type": "string"}),
}

TIMES = obj("A key's last-write time on one side (nulls: the key is not on that side).", {
    "last_write": s("ISO 8601.", NULLABLE_STR), "last_write_filetime": s("FILETIME.", ["integer", "null"])})
KEY_CHANGE = obj("One key that differs.", {
    "path": s("Full registry path."),
    "change": s("added, deleted, changed (values differ) or touched (only the last-write time differs)."),
    "old": TIMES, "new": TIMES,
    "values": arr("Values that differ (a changed key).", obj("One value.", {
        "name": s("Value name."), "change": s("added, deleted or changed."),
        "old": NULL_DATA, "new": NULL_DATA})),
    "contents": arr("An added or deleted key: every key of its subtree, with what it holds.", obj("One key.", {
        "path": s("Full registry path."), "last_write": s("ISO 8601."), "last_write_filetime": s("FILETIME.", "integer"),
        "values": arr("Its values.", obj("One value.", {"name": s("Value name."), **DATA["properties"]}))})),
}, required=["path", "change", "old", "new", "values"])

TIMELINE_EVENT = obj("One line of hivetool timeline --format jsonl (csv: the same fields as columns)", {
        "time": s("The key's last-write time, ISO 8601."), "filetime": s("The same, as stored (FILETIME).", "integer"),
        "hive": s("The hive file (an image: its path in the image)."),
        "path": s("The key: its path in the hive, or for an image the full registry path; as far as it could be "
                  "followed when `partial`."),
        "partial": s("A deleted key whose path could not be followed to the root.", "boolean"),
        "source": s("hive (a live key), deleted (--deleted: a key recover found) or log (--logs: a key state a "
                    "transaction log holds)."),
        "offset": s("File offset of the key node (in the state it was read from).", ["integer", "null"]),
        "log": s("log: the log file.", NULLABLE_STR),
        "sequence": s("log: the sequence number of the log entry (an old-format log: the log's).",
                      ["integer", "null"])})


SCHEMAS: dict[str, dict] = {
    "set": obj("hivetool set --json", {**WRITE, "changes": arr("Keys created and the value set, per location "
                                                                "(two for CurrentControlSet in two sets).", CHANGE),
                                       "control_set": s("How CurrentControlSet was resolved.", NULLABLE_STR)}),
    "mkkey": obj("hivetool mkkey --json", {**WRITE, "changes": arr("Keys created, or found.", CHANGE),
                                           "control_set": s("How CurrentControlSet was resolved.", NULLABLE_STR)}),
    "rm": obj("hivetool rm --json", {**WRITE, "changes": arr("What was deleted.", CHANGE),
                                     "control_set": s("How CurrentControlSet was resolved.", NULLABLE_STR)}),
    "import": obj("hivetool import --json", {**WRITE, "changes": arr("Empty: see `hives`.", CHANGE),
                                             "hives": arr("Per hive changed or touched.", obj("Counts for one hive.", {
                                                 "mount": s("Registry path the hive is mounted at.", NULLABLE_STR),
                                                 "path": s("The hive's file (path in the image)."),
                                                 "keys_created": s("Keys created.", "integer"),
                                                 "keys_deleted": s("Keys deleted.", "integer"),
                                                 "values_set": s("Values created or changed.", "integer"),
                                                 "values_deleted": s("Values deleted.", "integer"),
                                                 "values_unchanged": s("Values that were already so.", "integer"),
                                             }))}),
    "import-dry-run": obj("hivetool import --dry-run --json", {
        "command": s("import"), "target": s("The TARGET."), "dry_run": s("true", "boolean"),
        "operations": arr("What an import would do.", obj("One operation.", {
            "kind": s("create_key, delete_key, set_value or delete_value."),
            "key": s("The key as the .reg file names it."),
            "hive": s("Where the hive is mounted.", NULLABLE_STR),
            "targets": arr("Paths inside the hive (CurrentControlSet resolved).", {"type": "string"}),
            "name": s("Value name.", NULLABLE_STR), "new": NULL_DATA,
        }))}),
    "diff": obj("hivetool diff --json", {
        "command": s("diff"), "old": s("OLD."), "new": s("NEW."), "output": s("-o, if given.", NULLABLE_STR),
        "differences": s("Number of operations.", "integer"),
        "counts": s("Operations by kind.", "object"),
        "operations": arr("The patch that turns OLD into NEW.", obj("One operation.", {
            "kind": s("create_key, delete_key, set_value or delete_value."), "key": s("Full registry path."),
            "name": s("Value name.", NULLABLE_STR), "new": NULL_DATA})),
        "key_counts": obj("Keys by change (added and deleted subtrees count every key in them).", {
            "added": s("Keys only in NEW.", "integer"), "deleted": s("Keys only in OLD.", "integer"),
            "changed": s("Keys whose values differ.", "integer"),
            "touched": s("Keys whose last-write time alone differs.", "integer")}),
        "keys": arr("Every key that differs, for a person or a report to read.", KEY_CHANGE)}),
    "find": obj("hivetool find --json", {
        "command": s("find"), "target": s("The TARGET."), "pattern": s("PATTERN as given."),
        "regex": s("PATTERN is a regular expression (-E).", "boolean"), "count": s("Matches.", "integer"),
        "matches": arr("Each key or value that matched, in tree order.", obj("One match.", {
            "kind": s("key or value."),
            "path": s("The key: its path in the hive (a hive file) or full registry path (an image)."),
            "matched": s("What held PATTERN: key_name, value_name or data."),
            "last_write": s("The key's last-write time, ISO 8601."),
            "last_write_filetime": s("The same, as stored (FILETIME).", "integer"),
            "value": VALUE}, required=["kind", "path", "matched", "last_write", "last_write_filetime"])),
        "problems": arr("--salvage only: what could not be read.", PROBLEM)},
        required=["command", "target", "pattern", "regex", "count", "matches"]),
    "export": obj("hivetool export --json (the .reg goes to -o)", {
        "command": s("export"), "target": s("The TARGET."), "output": s("The .reg file."),
        "top": s("The exported key(s), full paths."), "keys": s("Keys written.", "integer"),
        "values": s("Values written.", "integer"), "losses": arr("Values not written exactly.", LOSS),
        "problems": arr("--salvage only: what could not be read.", PROBLEM)},
        required=["command", "target", "output", "top", "keys", "values", "losses"]),
    "reg-fmt": obj("hivetool reg fmt --json (the file goes to -o)", {
        "command": s("reg fmt"), "input": s("FILE.reg."), "output": s("The rewritten file."),
        "operations": s("Operations in the file.", "integer"), "losses": arr("Values not written exactly.", LOSS)}),
    "reg-check": arr("hivetool reg check --json: one entry per file.", obj("One file.", {
        "file": s("The file."), "encoding": s("How it was read.", NULLABLE_STR),
        "dialect": s("5.00, REGEDIT4, win31 or ignored.", NULLABLE_STR),
        "diagnostics": arr("Every line Windows would skip or reject, and oddities.", obj("One diagnostic.", {
            "line": s("Line.", "integer"), "col": s("Column.", "integer"), "level": s("error or warning."),
            "code": s("Diagnostic code.", NULLABLE_STR), "message": s("What and why.")})),
        "errors": s("Errors.", "integer"), "warnings": s("Warnings.", "integer")})),
    "compact": obj("hivetool compact --json", {
        "command": s("compact"), "target": s("The TARGET."),
        "hives": arr("Each hive compacted.", obj("One hive.", {
            "hive": s("The hive (path in the image)."), "output": s("Where it went."),
            "size_before": s("Bytes before.", "integer"), "size_after": s("Bytes after.", "integer"),
            "version": s("Format version written."), "keys": s("Keys.", "integer"), "values": s("Values.", "integer"),
            "security_descriptors": s("Security descriptors.", "integer")}))}),
    "new": obj("hivetool new --json", {
        "command": s("new"), "output": s("The hive created."), "version": s("1.3 or 1.5."),
        "root_name": s("The root key's name."), "size": s("Bytes.", "integer")}),
    "ls": arr("hivetool ls --json: the key, then with -r every key below it.", KEY),
    "ls-salvage": obj("hivetool ls --salvage --json", {
        "command": s("ls"), "target": s("The TARGET."), "keys": arr("As ls --json: the key, then with -r every key "
                                                                    "below it that could be read.", KEY),
        "problems": arr("What could not be read.", PROBLEM)}),
    "recover": obj("hivetool recover --json", {
        "command": s("recover"), "target": s("The TARGET."), "salvage": s("--salvage was given.", "boolean"),
        "reg": s("The .reg file written (--reg), or null.", NULLABLE_STR), "count": s("Items found.", "integer"),
        "counts": obj("Items by kind and by state.", {
            "keys": s("Deleted keys.", "integer"), "values": s("Deleted values.", "integer"),
            "intact": s("Intact.", "integer"), "partly overwritten": s("Partly overwritten.", "integer"),
            "gone": s("Gone.", "integer")}),
        "items": arr("Every deleted key and value found, in file order, hive by hive.", RECOVERED),
        "problems": arr("What could not be read: pointers of the live tree that lead nowhere; with --salvage also "
                        "the damage found on opening.", PROBLEM)}),
    "timeline": TIMELINE_EVENT,
    "timeline-json": obj("hivetool timeline --json", {
        "command": s("timeline"), "target": s("The TARGET."),
        "events": arr("Every event, in the order --format jsonl gives them.", TIMELINE_EVENT),
        "problems": arr("What could not be read (with --salvage: damaged parts), with file offsets.", PROBLEM)}),
    "get": obj("hivetool get --json", {**VALUE["properties"], "key": s("KEY as given.")}),
    "check": obj("hivetool check --json (an image: a list of these, each with `hive` and `mount`)", {
        "file": s("The hive file."), "clean": s("No findings at all.", "boolean"),
        "counts": obj("Findings by level.", {"error": s("Errors.", "integer"), "warning": s("Warnings.", "integer"),
                                             "info": s("Notices.", "integer")}),
        "findings": arr("Every finding.", obj("One finding.", {
            "code": s("Code (E-..., W-..., I-...)."), "level": s("error, warning or info."),
            "offset": s("File offset.", ["integer", "null"]), "message": s("What is wrong.")}, open_=True)),
        "hive": s("Image only: the hive's path in the image."),
        "mount": s("Image only: where the hive is mounted."),
    }, required=["file", "clean", "counts", "findings"]),
    "info": obj("hivetool info --json (a hive file; an image gives image-info)", {
        "file": s("The hive."), "size": s("Bytes.", "integer"), "version": s("Format version."),
        "root_name": s("Root key name."), "sequence_1": s("Primary sequence number.", "integer"),
        "sequence_2": s("Secondary sequence number.", "integer"), "dirty": s("Sequence numbers differ.", "boolean"),
        "checksum_ok": s("Base-block checksum is right.", "boolean"), "checksum": s("Stored checksum."),
        "last_written": s("Base-block time."),
        "last_written_filetime": s("Base-block time as stored (FILETIME ticks).", "integer"),
        "hive_bins_size": s("Declared hive-bins size.", "integer"),
        "bins": s("Hive bins.", "integer"), "flags": s("Base-block flags."), "embedded_name": s("File name field."),
        "logs": arr("Transaction logs beside it.", {"type": "object"}),
        "replay": s("What a replay would do."), "replay_problems": arr("What a replay would skip.", {"type": "string"}),
        "hashes": arr("--hash: the hive file, then each log beside it.", obj("One file.", {
            "file": s("The file."), "size": s("Bytes.", "integer"), "sha256": s("SHA-256, hex."),
            "sha1": s("SHA-1, hex."), "md5": s("MD5, hex.")}))},
        required=["file", "size", "version", "root_name", "sequence_1", "sequence_2", "dirty", "checksum_ok",
                  "checksum", "last_written", "last_written_filetime", "hive_bins_size", "bins", "flags",
                  "embedded_name", "logs", "replay", "replay_problems"]),
    "image-info": obj("hivetool image info --json", {
        "image": s("The image."), "os": s("CurrentVersion values and architecture.", "object"),
        "hives": arr("Every hive found.", obj("One hive.", {
            "mount": s("Registry path it is mounted at."), "path": s("Path in the image."), "role": s("Kind."),
            "size": s("Bytes.", "integer"), "version": s("Format version."), "dirty": s("Dirty.", "boolean"),
            "sequence": arr("Sequence numbers.", {"type": "integer"}), "logs": arr("Logs beside it.", {"type": "string"}),
            "problem": s("Why it could not be read.")}, required=["mount", "path", "role", "logs"])),
        "control_sets": s("current, default, lastknowngood, failed, sets.", "object"),
        "users": arr("ProfileList entries.", obj("One user.", {
            "sid": s("SID."), "name": s("Profile folder name."), "profile": s("ProfileImagePath."),
            "folder": s("Its folder in the image.", NULLABLE_STR), "ntuser": s("NTUSER.DAT found.", NULLABLE_STR),
            "classes": s("UsrClass.dat found.", NULLABLE_STR), "problem": s("Why not found.", NULLABLE_STR)})),
        "default_profile": {"type": ["object", "null"], "description": "The Default profile."},
        "problems": arr("What could not be found.", {"type": "string"})}),
    "replay": obj("hivetool replay --json (a hive file)", {
        "hive": s("The hive."), "dirty": s("It was dirty.", "boolean"),
        "primary_sequences": arr("Its sequence numbers.", {"type": "integer"}),
        "format": s("Log format used.", NULLABLE_STR), "applied": arr("Entries applied.", {"type": "object"}),
        "old_format_pages": s("Pages from old-format logs.", "integer"),
        "used_logs": arr("Logs used.", {"type": "string"}), "header_from_log": s("Log whose header was used.",
                                                                                NULLABLE_STR),
        "sequence": s("Sequence number reached.", ["integer", "null"]),
        "hive_bins_size_before": s("Before.", "integer"), "hive_bins_size_after": s("After.", ["integer", "null"]),
        "sequence_floor": s("Highest sequence seen.", "integer"), "logs": arr("Every log.", {"type": "object"}),
        "notes": arr("Notes.", {"type": "string"}), "skipped": arr("What was skipped.", {"type": "string"}),
        "summary": s("One line."), "output": s("File written.", NULLABLE_STR),
        "changed": s("The hive needed a replay.", "boolean"), "emptied_logs": arr("Logs emptied.", {"type": "string"})}),
    "replay-image": obj("hivetool replay IMAGE --json", {
        "command": s("replay"), "image": s("The image."), "changed": s("Any hive replayed.", "boolean"),
        "replayed": arr("Hives replayed.", obj("One hive.", {"mount": s("Mount."), "path": s("Path."),
                                                             "notes": arr("What was applied.", {"type": "string"})})),
        "written": arr("Files written.", {"type": "string"})}),
    "ports-set": obj("hivetool ports set --json (ports check: the same, with `status` per change and "
                     "`not_pinned`)", {
        "command": s("set or check."), "hive": s("TARGET."), "output": s("Where it was written.", NULLABLE_STR),
        "written": s("Something was written.", "boolean"), "ok": s("No validation error.", "boolean"),
        "profile": s("Profile."), "os": obj("OS generation and how it was inferred.",
                                            {"generation": s("nt4, 2000, xp, 2003 or vista+."), "how": s("Why.")}),
        "control_sets": arr("Control sets written.", {"type": "string"}),
        "control_set_choice": s("How CurrentControlSet was resolved.", NULLABLE_STR),
        "changes": arr("Per setting and control set.", {"type": "object"}),
        "reserved_ports": arr("--reserve: ReservedPorts per control set.", {"type": "object"}),
        "findings": arr("Validation findings.", FINDING), "warnings": arr("Warnings.", {"type": "string"}),
        "reminders": arr("What to do next (none when nothing was written).", {"type": "string"}),
        "changed": s("set only: whether the hive changed.", "boolean"),
        "not_pinned": arr("check only: settings not pinned.", {"type": "string"}),
    }, required=["command", "hive", "output", "written", "ok", "profile", "os", "control_sets", "changes",
                 "findings", "warnings", "reminders"]),
    "ports-reg": obj("hivetool ports reg --json (the .reg goes to -o)", {
        "command": s("ports reg"), "profile": s("Profile."), "output": s("The .reg file."),
        "written": s("Written (no validation error, or --force).", "boolean"),
        "findings": arr("Validation findings.", FINDING)}),
    "ports-firewall": obj("hivetool ports firewall --json", {
        "title": s("What the rules are for."), "protocol": s("tcp."), "direction": s("inbound."),
        "ports": arr("Ports or ranges to open.", obj("One opening.", {"port": s("Port or range."),
                                                                       "for": s("Why.")}))}),
    "apply": obj("hivetool apply --json", {
        "command": s("apply"), "target": s("The TARGET."), "states": arr("The STATE files, in order.", {"type": "string"}),
        "in_place": s("--in-place was given.", "boolean"),
        "changed": s("Whether any hive changed; false: nothing written in place, -o got an unchanged copy.",
                     "boolean"),
        "written": arr("Files written.", {"type": "string"}),
        "changes": arr("Every change, in the state's order.", STATE_CHANGE),
        "warnings": arr("Warnings (a second control set written, ports findings).", {"type": "string"})}),
    "apply-check": obj("hivetool apply --check --json", {
        "command": s("apply --check"), "target": s("The TARGET."), "ok": s("Everything holds (exit 0).", "boolean"),
        "counts": s("Results by status.", "object"), "fix_reg": s("--fix-reg, if given.", NULLABLE_STR),
        "results": arr("One per item and place compared.", obj("One result.", {
            "origin": s("file:line of the item."), "kind": s("value, key, absent or exact."),
            "path": s("The path compared (CurrentControlSet resolved)."), "given": s("The path as the state gives it."),
            "name": s("Value name; null for a key.", NULLABLE_STR), "status": s("ok, differs, missing or unexpected."),
            "expected": NULL_DATA, "actual": NULL_DATA,
            "extras": arr("An exact key: what it holds that the state does not declare.", {"type": "object"}),
            "ports": s("A [[ports]] item: its profile and setting.", "object"),
        }, required=["origin", "kind", "path", "given", "name", "status", "expected", "actual", "extras"]))}),
    "receipt": obj("hivetool apply --receipt FILE.json", {
        "tool": s("hivetool"), "version": s("Its version."),
        "command": arr("The arguments, without --receipt.", {"type": "string"}), "target": s("The TARGET."),
        "states": arr("Each STATE file.", FILE), "timestamp": s("The time written into the hives (--timestamp)."),
        "changed": s("Whether anything changed.", "boolean"),
        "files_before": arr("The target's files before.", FILE), "files_after": arr("The files written.", FILE),
        "changes": arr("Every change.", STATE_CHANGE)}),
    "batch-result": obj("One line of hivetool batch's results (RESULTS.jsonl, or standard output)", {
        "target": s("The target, as named (or as found below a folder named)."),
        "sha256": s("SHA-256 of the hive file; of an image, of its hives and logs (see README); null if unreadable.",
                    NULLABLE_STR),
        "exit_code": s("The command's exit code; null when it never finished (timed out, or its worker died).",
                       ["integer", "null"]),
        "output": s("The command's own --json document (text if it printed other text; null if nothing).",
                    ["object", "array", "string", "null"]),
        "error": s("The command's error message(s); why it never finished; null if none.", NULLABLE_STR),
        "seconds": s("Time the target took, its hashing included.", ["number", "null"]),
        "command": arr("COMMAND [ARGS] as given after --.", {"type": "string"})}),
    "batch": obj("hivetool batch --json (a summary; the results are in --out)", {
        "command": s("batch"), "targets": s("Targets found.", "integer"),
        "ran": s("Targets run by this batch.", "integer"),
        "skipped": s("Targets --resume found unchanged in the results file (not run again).", "integer"),
        "not_run": s("Targets left when the batch was interrupted.", "integer"),
        "exit_codes": s("Targets by the command's exit code (\"0\": n, ...), skipped ones by their recorded one.",
                        "object"),
        "timed_out": s("Targets stopped by --timeout.", "integer"),
        "died": s("Targets whose worker process died (a crash, or killed over --max-memory).", "integer"),
        "failed_on": arr("Targets that ended as --fail-on names (exit 1 if any).", {"type": "string"}),
        "results": s("The results file.", NULLABLE_STR),
        "interrupted": s("Whether the batch was interrupted (exit 130).", "boolean"),
        "workers": s("Worker processes started here (replacements of killed ones included); null on Dask.",
                     ["integer", "null"]),
        "seconds": s("Wall time.", "number")}),
    "ports-list": arr("hivetool ports list --json", obj("One profile.", {
        "profile": s("Name."), "hive": s("SYSTEM or SOFTWARE."), "title": s("Title."), "sources": s("Sources."),
        "settings": arr("Its settings.", {"type": "object"})})),
}


def write_files() -> None:
    OUT.mkdir(exist_ok=True)
    for name, schema in SCHEMAS.items():
        document = {"$schema": DRAFT, "$id": f"hivetool/{name}.schema.json", **schema}
        (OUT / f"{name}.schema.json").write_text(json.dumps(document, indent=2) + "\n")


def _fields(schema: dict, prefix: str = "") -> list[tuple[str, str]]:
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        return _fields(schema["items"], prefix + "[]")
    rows = []
    for name, sub in schema.get("properties", {}).items():
        sub = sub if "description" in sub else sub.get("anyOf", [{}])[0] | {"description": sub.get("description", "")}
        rows.append((prefix + name, sub.get("description", "")))
        inner = sub.get("items") if sub.get("type") == "array" else sub
        if isinstance(inner, dict) and inner.get("properties") and name not in ("old", "new"):
            rows += _fields(inner, prefix + name + ("[]." if sub.get("type") == "array" else "."))
    return rows


def readme_section() -> str:
    lines = ["Every command takes `--json` and prints one JSON document on standard output (the commands",
             "that write a .reg file then take it with `-o`). The JSON Schema of each output is in",
             "`hivetool/schemas/` (`tools/make_schemas.py` writes them; a test validates every command's",
             "output). `old`/`new`/data objects are `type` (name), `type_id`, `data` (decoded: a number, a",
             "string, a list of strings, or hex) and `raw` (hex).", ""]
    for name, schema in SCHEMAS.items():
        fields = " · ".join(f"`{field}`: {text}" for field, text in _fields(schema))
        lines.append(f"- **{schema['description']}** (`{name}.schema.json`): {fields}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if "--readme" in sys.argv:
        sys.stdout.write(readme_section())
    else:
        write_files()
