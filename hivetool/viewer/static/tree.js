// The key tree: children load when a key is expanded, a page at a time; arrows move, Right and
// Left expand and collapse (or go to the first child and to the parent), Enter toggles,
// Home and End jump. Selecting a key shows its values.
"use strict";

HV.tree = (function () {
  const box = document.getElementById("tree");
  const marks = new Map(); // upper-cased path -> "added" | "changed" | "touched" (the diff)
  let selectHandler = () => {};
  let selectTimer = null;

  function expandable(node) {
    return node.subkeys === null || node.subkeys === undefined || node.subkeys > 0;
  }

  function item(node) {
    const li = HV.el("li", {role: "treeitem", "aria-selected": "false", dataset: {path: node.path}});
    const twisty = HV.el("span", {class: "twisty", "aria-hidden": "true"});
    const row = HV.el("div", {class: "tree-row", tabindex: "-1", dataset: {path: node.path}},
      twisty,
      HV.el("span", {class: "name" + (node.kind === "hive" || node.kind === "root" ? " hive" : "")}, node.label || node.name),
      HV.el("span", {class: "time"}, HV.shortTime(node.last_write)));
    if (node.values) row.title = node.subkeys + " subkeys, " + node.values + " values";
    li.append(row);
    if (expandable(node)) {
      li.setAttribute("aria-expanded", "false");
      twisty.textContent = "\u25b8";
      twisty.addEventListener("click", (event) => { event.stopPropagation(); toggle(li); });
    }
    row.addEventListener("click", () => select(row, true));
    row.addEventListener("dblclick", () => toggle(li));
    applyMark(li);
    return li;
  }

  function applyMark(li) {
    const change = marks.get((li.dataset.path || "").toUpperCase());
    li.firstChild.classList.remove("mark-added", "mark-changed", "mark-touched");
    if (change) li.firstChild.classList.add("mark-" + change);
  }

  // ``ready``: the page already asked for (the first screen's, fetched while the page started).
  async function loadPage(li, list, offset, ready) {
    const page = await HV.busy("Loading " + (li.dataset.path || "the root") + " ...",
                               () => ready || HV.get("children", {path: li.dataset.path, offset: offset}));
    const rows = document.createDocumentFragment();
    for (const child of page.children) rows.append(item(child));
    const old = list.querySelector(":scope > .tree-more");
    if (old) old.remove();
    list.append(rows);
    delete list.dataset.next;
    if (page.more) {
      const shown = page.offset + page.children.length;
      list.dataset.next = String(shown);
      const more = HV.el("li", {class: "tree-more"},
        HV.el("button", {type: "button"}, "Show more (" + shown + " of " + page.total + " shown)"));
      more.firstChild.addEventListener("click", () => loadPage(li, list, shown));
      list.append(more);
    }
    return page;
  }

  async function expand(li, ready) {
    if (li.getAttribute("aria-expanded") !== "false") return;
    let list = li.querySelector(":scope > ul");
    if (!list) {
      list = HV.el("ul", {role: "group"});
      li.append(list);
      try {
        await loadPage(li, list, 0, ready);
      } catch (err) {
        list.remove();
        return;
      }
    }
    list.hidden = false;
    li.setAttribute("aria-expanded", "true");
    li.querySelector(":scope > .tree-row > .twisty").textContent = "\u25be";
  }

  function collapse(li) {
    if (li.getAttribute("aria-expanded") !== "true") return;
    li.querySelector(":scope > ul").hidden = true;
    li.setAttribute("aria-expanded", "false");
    li.querySelector(":scope > .tree-row > .twisty").textContent = "\u25b8";
  }

  function toggle(li) {
    return li.getAttribute("aria-expanded") === "true" ? collapse(li) : expand(li);
  }

  function rows() {
    return Array.from(box.querySelectorAll(".tree-row")).filter((row) => row.offsetParent !== null);
  }

  function selectedRow() {
    return box.querySelector("li[aria-selected=true] > .tree-row");
  }

  function select(row, now) {
    const previous = box.querySelector("li[aria-selected=true]");
    if (previous) {
      previous.setAttribute("aria-selected", "false");
      previous.firstChild.tabIndex = -1;
    }
    row.parentNode.setAttribute("aria-selected", "true");
    row.tabIndex = 0;
    row.focus({preventScroll: true});
    row.scrollIntoView({block: "nearest"});
    if (selectTimer) clearTimeout(selectTimer);
    // Holding an arrow key runs through many keys: show the values of the one it stops at.
    selectTimer = setTimeout(() => selectHandler(row.dataset.path), now ? 0 : 120);
  }

  box.addEventListener("focus", () => {
    const row = selectedRow() || rows()[0];
    if (row) row.focus();
  });

  box.addEventListener("keydown", (event) => {
    const row = selectedRow();
    if (!row) return;
    const li = row.parentNode;
    const all = rows();
    const at = all.indexOf(row);
    let handled = true;
    switch (event.key) {
      case "ArrowDown": if (at + 1 < all.length) select(all[at + 1]); break;
      case "ArrowUp": if (at > 0) select(all[at - 1]); break;
      case "Home": select(all[0]); break;
      case "End": select(all[all.length - 1]); break;
      case "ArrowRight":
        if (li.getAttribute("aria-expanded") === "false") expand(li);
        else if (li.getAttribute("aria-expanded") === "true") {
          const first = li.querySelector(":scope > ul > li > .tree-row");
          if (first) select(first);
        }
        break;
      case "ArrowLeft":
        if (li.getAttribute("aria-expanded") === "true") collapse(li);
        else {
          const parent = li.parentNode.closest("li[role=treeitem]");
          if (parent) select(parent.firstChild);
        }
        break;
      case "Enter": toggle(li); selectHandler(row.dataset.path); break;
      default: handled = false;
    }
    if (handled) event.preventDefault();
  });

  function find(path) {
    for (const li of box.querySelectorAll("li[role=treeitem]")) {
      if (li.dataset.path.toUpperCase() === path.toUpperCase()) return li;
    }
    return null;
  }

  // Expand every key of ``ancestors`` (top first) and select the last one.
  async function reveal(ancestors) {
    let li = null;
    for (let index = 0; index < ancestors.length; index++) {
      const found = find(ancestors[index]);
      if (!found) {
        // Past the pages shown of a huge key: load pages until it shows up.
        const list = li && li.querySelector(":scope > ul");
        if (!list || list.dataset.next === undefined) break;
        await loadPage(li, list, Number(list.dataset.next));
        index--;
        continue;
      }
      li = found;
      if (index < ancestors.length - 1) await expand(li);
    }
    if (li) select(li.firstChild, true);
    return li;
  }

  // A new tree for the target described by ``info``; its top key expanded (the first screen),
  // with ``firstPage`` (a promise of its children) when they were asked for already.
  async function reset(info, firstPage) {
    HV.clear(box);
    const list = HV.el("ul", {role: "group", class: "tree-top"});
    box.append(list);
    // A hive's top is its root key, named by where it mounts when that is known (its stored
    // name, often a generated CMI-CreateHive{GUID}, is in the tooltip and the heading).
    const label = info.kind === "hive" ? info.mount || info.root_name : "Computer";
    const top = item({path: "", name: label, kind: "root", subkeys: null});
    if (info.kind === "hive") top.firstChild.title = "root key " + info.root_name;
    list.append(top);
    await expand(top, firstPage);
    select(top.firstChild, true);
  }

  function mark(changes) {
    marks.clear();
    for (const change of changes) marks.set(change.path.toUpperCase(), change.change);
    for (const li of box.querySelectorAll("li[role=treeitem]")) applyMark(li);
  }

  return {
    reset, reveal, mark, expand, find,
    onSelect: (handler) => { selectHandler = handler; },
  };
})();
