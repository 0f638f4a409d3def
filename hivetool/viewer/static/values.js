// The values pane: the selected key's facts, its values (name, type, data, size, offset), and
// the hex view of the value chosen with a click or Enter (arrows move between values).
"use strict";

HV.values = (function () {
  const heading = document.getElementById("key-heading");
  const body = document.querySelector("#values tbody");
  const hexBox = document.getElementById("hex");
  let current = null; // the key shown: its API document
  let request = 0;

  function facts(key) {
    const parts = [];
    if (key.virtual) parts.push("holds hives");
    else {
      parts.push("last write " + HV.shortTime(key.last_write) + " UTC");
      parts.push(key.subkeys + " subkeys", key.value_count + " values");
      if (key.offset !== undefined) parts.push("nk at file offset " + HV.hex0(key.offset));
      if (key.class) parts.push("class " + JSON.stringify(key.class));
      if (key.merged) parts.push("merged view (the user's classes over the machine's)");
    }
    if (key.hive) parts.push(key.hive);
    return parts.join(" \u00b7 ");
  }

  function valueRow(value, index) {
    const row = HV.el("tr", {tabindex: "0", dataset: {index: String(index)}},
      HV.el("td", {class: value.name === "" ? "name default" : "name"}, value.name === "" ? "(default)" : value.name),
      HV.el("td", {class: "type"}, value.type),
      HV.el("td", {class: "data"}, value.text),
      HV.el("td", {class: "num"}, String(value.size)),
      HV.el("td", {class: "num"}, HV.hex0(value.offset)));
    row.addEventListener("click", () => open(index, row));
    row.addEventListener("keydown", (event) => {
      if (event.key === "Enter") open(index, row);
      else if (event.key === "ArrowDown" && row.nextElementSibling) row.nextElementSibling.focus();
      else if (event.key === "ArrowUp" && row.previousElementSibling) row.previousElementSibling.focus();
      else return;
      event.preventDefault();
    });
    return row;
  }

  async function open(index, row) {
    for (const other of body.querySelectorAll("tr.chosen")) other.classList.remove("chosen");
    row.classList.add("chosen");
    let value = current.values[index];
    if (value.raw_truncated) {
      value = await HV.busy("Reading the value ...", () => HV.get("value", {path: current.path, name: value.name}));
    }
    const title = (value.name === "" ? "(default)" : value.name) + "  " + value.type + " (" + HV.hex0(value.type_id) +
      ")  vk at file offset " + HV.hex0(value.offset);
    HV.hexView.show(hexBox, title, value.raw, value.location);
  }

  async function show(path) {
    const mine = ++request;
    let key;
    try {
      key = await HV.get("key", {path: path});
    } catch (err) {
      HV.status(err.message, "error");
      return;
    }
    if (mine !== request) return; // a newer selection won
    current = key;
    HV.clear(heading).append(
      HV.el("div", {class: "key-path", id: "key-path"}, headingText(key)),
      HV.el("div", {class: "muted"}, facts(key)));
    HV.clear(body);
    key.values.forEach((value, index) => body.append(valueRow(value, index)));
    if (!key.values.length) {
      body.append(HV.el("tr", {class: "empty"}, HV.el("td", {colspan: "5"}, key.virtual ? "" : "(no values)")));
    }
    hexBox.hidden = true;
    document.getElementById("path-input").value = displayPath(key.path);
  }

  function headingText(key) {
    if (key.path) return displayPath(key.path);
    const info = HV.state.describe;
    if (info && info.kind === "hive") return (info.mount ? info.mount + "  " : "") + "(root key " + key.name + ")";
    return "Computer";
  }

  // The path as it would be pasted back: a hive file's key with its mount in front.
  function displayPath(path) {
    const info = HV.state.describe;
    if (info && info.kind === "hive" && info.mount) return path ? info.mount + "\\" + path : info.mount;
    return path;
  }

  return {show, current: () => current};
})();
