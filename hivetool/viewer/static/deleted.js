// The deleted view: keys and values recovered from free cells, slack and unreachable cells,
// with their file offsets, the path they had (as far as it can be followed), their state
// (intact, partly overwritten, gone) and the evidence; a click shows a value's bytes in hex.
"use strict";

HV.deleted = (function () {
  const summary = document.getElementById("deleted-summary");
  const body = document.querySelector("#deleted tbody");
  const hexBox = document.getElementById("deleted-hex");
  let loadedFor = null;
  let pendingIndex = null;

  function text(item) {
    if (item.kind === "key") return "";
    if (item.data === null || item.data === undefined) return item.raw ? item.raw.slice(0, 96) : "(gone)";
    if (Array.isArray(item.data)) return JSON.stringify(item.data);
    return typeof item.data === "string" && item.type && item.type.endsWith("SZ") ? JSON.stringify(item.data)
      : String(item.data);
  }

  function row(item) {
    const tr = HV.el("tr", {tabindex: "0", class: "state-" + item.state.replace(/\s+/g, "-"),
                            dataset: {index: String(item.index)}},
      HV.el("td", {}, item.kind),
      HV.el("td", {class: "num"}, HV.hex0(item.offset)),
      HV.el("td", {class: "path"}, (item.partial ? "\u2026\\" : "") + (item.path || "")),
      HV.el("td", {class: "name"}, item.name === "" && item.kind === "value" ? "(default)" : item.name),
      HV.el("td", {class: "time"}, HV.shortTime(item.last_write)),
      HV.el("td", {class: "type"}, item.type || ""),
      HV.el("td", {class: "data", title: text(item).slice(0, 2000)}, text(item)),
      HV.el("td", {}, item.state));
    tr.title = [item.found_in].concat(item.evidence || []).concat(item.damage ? [item.damage] : []).join("\n");
    tr.addEventListener("click", () => show(item.index, tr));
    tr.addEventListener("keydown", (event) => {
      if (event.key === "Enter") show(item.index, tr);
      else if (event.key === "ArrowDown" && tr.nextElementSibling) tr.nextElementSibling.focus();
      else if (event.key === "ArrowUp" && tr.previousElementSibling) tr.previousElementSibling.focus();
      else return;
      event.preventDefault();
    });
    return tr;
  }

  async function show(index, tr) {
    for (const other of body.querySelectorAll("tr.chosen")) other.classList.remove("chosen");
    if (tr) {
      tr.classList.add("chosen");
      tr.scrollIntoView({block: "nearest"});
    }
    let item;
    try {
      item = await HV.busy("Reading the item ...", () => HV.get("deleted/item", {index: index}));
    } catch (err) {
      return;
    }
    const title = "deleted " + item.kind + " " + JSON.stringify(item.name) + " at file offset " + HV.hex0(item.offset) +
      " (" + item.state + ")";
    const note = [item.found_in].concat(item.evidence || []).concat(item.damage ? [item.damage] : []).join("; ");
    HV.clear(hexBox);
    hexBox.hidden = false;
    const record = HV.el("div", {class: "hex", id: "deleted-record"});
    hexBox.append(record);
    HV.hexView.show(record, title + ": its cell", item.record || "", {kind: "record", offset: item.offset}, note);
    if (item.kind === "value") {
      const data = HV.el("div", {class: "hex", id: "deleted-data"});
      hexBox.append(data);
      HV.hexView.show(data, "its data" + (item.raw === null ? " (gone)" : ""), item.raw || "", null,
                      item.type ? item.type + (item.size !== null ? ", " + item.size + " bytes stated" : "") : "");
    }
  }

  async function load() {
    HV.clear(body);
    hexBox.hidden = true;
    let found;
    try {
      found = await HV.busy("Looking for deleted keys and values ...", () => HV.get("deleted"));
    } catch (err) {
      summary.textContent = err.message;
      return;
    }
    if (!found.available) {
      summary.textContent = found.reason;
      return;
    }
    summary.textContent = found.counts.keys + " deleted keys and " + found.counts.values + " deleted values recovered" +
      (found.truncated ? " (the first " + found.items.length + " shown)" : "");
    HV.problems(found.problems);
    for (const item of found.items) body.append(row(item));
    if (pendingIndex !== null) openRow(pendingIndex);
  }

  function openRow(index) {
    pendingIndex = null;
    const tr = body.querySelector('tr[data-index="' + Number(index) + '"]');
    if (tr) { tr.focus(); show(index, tr); }
  }

  // Show the recovered item ``index`` (from the timeline's list).
  function open(index) {
    pendingIndex = index;
    HV.showView("deleted");
    if (body.children.length) openRow(index);
  }

  function onShow() {
    const key = HV.state.target + ":" + HV.state.logs;
    if (loadedFor === key) return;
    loadedFor = key;
    load();
  }

  function forget() { loadedFor = null; }

  HV.registerView("deleted", onShow);
  return {open, forget};
})();
