// The diff view (with --compare): keys and values added, deleted and changed from OTHER
// (before) to TARGET (after), old and new data side by side or as unified lines; the keys
// are marked in the tree too. A click on a path opens the key (a deleted one in OTHER's tree).
"use strict";

HV.diff = (function () {
  const summary = document.getElementById("diff-summary");
  const box = document.getElementById("diff");
  const touched = document.getElementById("diff-touched");
  const layout = document.getElementById("diff-layout");
  const SIGNS = {added: "+", deleted: "-", changed: "~", touched: "\u00b7"};
  let loadedFor = null;
  let found = null;

  function data(value) {
    if (!value) return "";
    return value.type + " " + value.text;
  }

  function pathLink(change) {
    const link = HV.el("a", {href: "#", class: "path"}, change.path || "\\");
    link.addEventListener("click", (event) => {
      event.preventDefault();
      HV.app.open(change.path, change.change === "deleted" ? "compare" : "main");
    });
    return link;
  }

  function times(change) {
    const before = HV.shortTime(change.old.last_write), after = HV.shortTime(change.new.last_write);
    if (!before) return "written " + after;
    if (!after) return "was written " + before;
    return before === after ? "last write " + after : "last write " + before + " \u2192 " + after;
  }

  function showHex(holder, value) {
    const pair = HV.clear(holder);
    holder.hidden = false;
    for (const side of ["old", "new"]) {
      if (!value[side]) continue;
      const hex = HV.el("div", {class: "hex diff-hex-" + side});
      pair.append(hex);
      HV.hexView.show(hex, (side === "old" ? "before: " : "after: ") + value[side].type, value[side].raw, null,
                      value[side].raw_truncated ? "first bytes only" : "");
    }
  }

  function valueRows(change, holder) {
    const unified = layout.value === "unified";
    const table = HV.el("table", {class: "grid diff-values " + (unified ? "unified" : "side")});
    if (!unified) {
      table.append(HV.el("thead", {}, HV.el("tr", {}, HV.el("th", {}, "Value"), HV.el("th", {}, ""),
        HV.el("th", {}, "Before (OTHER)"), HV.el("th", {}, "After (TARGET)"))));
    }
    const rows = HV.el("tbody");
    for (const value of change.values) {
      const name = value.name === "" ? "(default)" : value.name;
      if (unified) {
        if (value.old) rows.append(HV.el("tr", {class: "line-deleted"}, HV.el("td", {class: "sign"}, "-"),
          HV.el("td", {class: "name"}, name), HV.el("td", {class: "data"}, data(value.old))));
        if (value.new) rows.append(HV.el("tr", {class: "line-added"}, HV.el("td", {class: "sign"}, "+"),
          HV.el("td", {class: "name"}, name), HV.el("td", {class: "data"}, data(value.new))));
      } else {
        const tr = HV.el("tr", {class: "value-" + value.change, tabindex: "0"},
          HV.el("td", {class: "name"}, name), HV.el("td", {class: "sign"}, SIGNS[value.change] || ""),
          HV.el("td", {class: "data old"}, data(value.old)), HV.el("td", {class: "data new"}, data(value.new)));
        tr.addEventListener("click", () => showHex(holder, value));
        tr.addEventListener("keydown", (event) => { if (event.key === "Enter") showHex(holder, value); });
        rows.append(tr);
      }
    }
    table.append(rows);
    return table;
  }

  function block(change) {
    const holder = HV.el("div", {class: "diff-hex-pair", hidden: true});
    const head = HV.el("div", {class: "change-head"}, HV.el("span", {class: "sign"}, SIGNS[change.change]), " ",
      pathLink(change), " ", HV.el("span", {class: "badge"}, change.change), " ",
      HV.el("span", {class: "muted"}, times(change)));
    const section = HV.el("div", {class: "change change-" + change.change, dataset: {path: change.path}}, head);
    if (change.values.length) section.append(valueRows(change, holder), holder);
    if (change.contents) {
      const list = HV.el("ul", {class: "contents"});
      for (const below of change.contents) {
        const values = below.values.map((v) => (v.name === "" ? "(default)" : v.name) + " = " + data(v));
        list.append(HV.el("li", {}, HV.el("span", {class: "path"}, below.path || "\\"),
          values.length ? HV.el("div", {class: "muted"}, values.join("; ")) : null));
      }
      section.append(HV.el("div", {class: "muted"}, change.keys + (change.keys === 1 ? " key" : " keys") +
        (change.keys > change.contents.length ? " (the first " + change.contents.length + " listed)" : "")), list);
    }
    return section;
  }

  function draw() {
    HV.clear(box);
    const counts = Object.entries(found.counts).map(([kind, n]) => n + " " + kind).join(", ") || "no differences";
    summary.textContent = "From " + found.before + " (before) to " + found.after + " (after): " + counts +
      (found.truncated ? " (the first " + found.changes.length + " keys shown)" : "");
    const fragment = document.createDocumentFragment();
    for (const change of found.changes) fragment.append(block(change));
    box.append(fragment);
  }

  async function load() {
    HV.clear(box);
    try {
      found = await HV.busy("Comparing ...", () => HV.get("diff", {touched: touched.checked ? 1 : 0}));
    } catch (err) {
      summary.textContent = err.message;
      return;
    }
    HV.tree.mark(HV.state.target === "main" ? found.changes.filter((c) => c.change !== "deleted") : []);
    draw();
  }

  touched.addEventListener("change", () => { loadedFor = null; load(); });
  layout.addEventListener("change", () => { if (found) draw(); });

  function onShow() {
    const key = String(HV.state.logs);
    if (loadedFor === key) return;
    loadedFor = key;
    load();
  }

  function forget() { loadedFor = null; }

  HV.registerView("diff", onShow);
  return {load, forget};
})();
