// The search view: hivetool find's matching (names and data, substring or regex, case
// ignored unless asked); a click on a match opens its key in the tree.
"use strict";

HV.search = (function () {
  const summary = document.getElementById("search-summary");
  const list = document.getElementById("search-results");

  async function run(pattern) {
    const scope = document.getElementById("search-scope").value;
    const regex = document.getElementById("search-regex").checked;
    const caseSensitive = document.getElementById("search-case").checked;
    HV.showView("search");
    HV.clear(list);
    summary.textContent = "Searching ...";
    let found;
    try {
      found = await HV.busy("Searching for " + pattern + " ...", () =>
        HV.get("search", {q: pattern, scope: scope, regex: regex ? 1 : 0, case: caseSensitive ? 1 : 0}));
    } catch (err) {
      summary.textContent = err.message;
      return;
    }
    summary.textContent = found.count + (found.truncated ? "+ matches (the first " + found.count + " shown)" :
      " match" + (found.count === 1 ? "" : "es")) + " for " + JSON.stringify(found.pattern);
    HV.problems(found.problems);
    for (const match of found.matches) {
      const what = match.kind === "key"
        ? HV.el("span", {class: "muted"}, "key")
        : HV.el("span", {}, HV.el("span", {class: "name"}, match.value === "" ? "(default)" : match.value),
                " = ", HV.el("span", {class: "type"}, match.type), " ", match.text);
      const link = HV.el("a", {href: "#", class: "path", dataset: {path: match.path}}, match.path || "\\");
      link.addEventListener("click", (event) => { event.preventDefault(); HV.app.open(match.path); });
      list.append(HV.el("li", {class: "match matched-" + match.matched}, link, " ", what,
                        HV.el("span", {class: "time"}, HV.shortTime(match.last_write))));
    }
  }

  document.getElementById("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const pattern = document.getElementById("search-input").value;
    if (pattern) run(pattern);
  });

  return {run};
})();
