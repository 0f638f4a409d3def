// Starts the page and wires its parts: the target and replay choices, the tabs, the path bar.
// The first screen is the tree with the root key's subkeys.
"use strict";

HV.app = (function () {
  const replayToggle = document.getElementById("replay-toggle");
  const targetSelect = document.getElementById("target-select");

  function describe() {
    return HV.state.info.targets[HV.state.target];
  }

  function ancestors(path) {
    const found = [""];
    if (!path) return found;
    const parts = path.split("\\");
    for (let index = 1; index <= parts.length; index++) found.push(parts.slice(0, index).join("\\"));
    return found;
  }

  // A new tree for the current target and state; ``keep``: open the key that was open, or as
  // much of its path as this tree has (comparing stored and replayed, or OTHER and TARGET).
  async function showTarget(keep, firstPage) {
    const current = keep && HV.values.current();
    HV.state.describe = describe();
    const info = HV.state.describe;
    const name = document.getElementById("target-name");
    name.textContent = info.target + (info.kind === "hive" ? "" : " (" + info.kind + ")");
    const dirty = info.hives.filter((h) => h.dirty).map((h) => h.file);
    name.title = dirty.length ? "dirty: " + dirty.join(", ") : "";
    document.body.classList.toggle("replayed", Boolean(HV.state.logs));
    await HV.tree.reset(info, firstPage);
    HV.problems(info.problems);
    if (current && current.path) await HV.tree.reveal(ancestors(current.path));
  }

  // Open the key at ``path`` (a path as the tree names it) in the tree of ``role``.
  async function open(path, role) {
    if (role && role !== HV.state.target) {
      HV.state.target = role;
      targetSelect.value = role;
      await showTarget();
      forgetViews();
    }
    HV.showView("browse");
    await HV.tree.reveal(ancestors(path));
  }

  async function goTo(text) {
    let found;
    try {
      found = await HV.busy("Finding " + text + " ...", () => HV.get("resolve", {q: text}));
    } catch (err) {
      return;
    }
    HV.showView("browse");
    await HV.tree.reveal(found.ancestors);
    if (found.notes.length) HV.status(found.notes.join("; "));
  }

  function forgetViews() {
    HV.timeline.forget();
    HV.deleted.forget();
    // The diff's marks name TARGET's keys: another tree gets them again from a new diff.
    HV.diff.forget();
    HV.tree.mark([]);
  }

  async function start() {
    HV.tree.onSelect((path) => HV.values.show(path));
    // The first screen's children are asked for at once, beside the description of the
    // targets rather than after it: the same state (the command line's) answers both.
    const firstPage = HV.get("children", {path: ""});
    firstPage.catch(() => {}); // its error shows when the tree uses it
    let info;
    try {
      info = await HV.busy("Opening ...", () => HV.get("info"));
    } catch (err) {
      return;
    }
    HV.state.info = info;
    HV.state.logs = info.replay_logs;
    if (info.roles.includes("compare")) {
      document.getElementById("target-choice").hidden = false;
      document.querySelector('#tabs [data-view="diff"]').hidden = false;
    }
    const replayable = info.roles.some((role) => info.targets[role].replayable);
    document.getElementById("replay-choice").hidden = !replayable;
    replayToggle.checked = Boolean(info.replay_logs);
    await showTarget(false, firstPage);
  }

  replayToggle.addEventListener("change", async () => {
    HV.state.logs = replayToggle.checked;
    forgetViews();
    await showTarget(true);
    HV.showView(HV.state.view || "browse");
    HV.status(HV.state.logs ? "Dirty hives are read through their transaction logs"
                            : "Hives are read as stored, without their transaction logs");
  });

  targetSelect.addEventListener("change", async () => {
    HV.state.target = targetSelect.value;
    forgetViews();
    await showTarget(true);
    HV.showView(HV.state.view || "browse");
  });

  document.getElementById("path-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = document.getElementById("path-input").value.trim();
    if (text) goTo(text);
  });

  for (const tab of document.querySelectorAll("#tabs [role=tab]")) {
    tab.addEventListener("click", () => HV.showView(tab.dataset.view));
  }

  document.addEventListener("keydown", (event) => {
    const typing = /^(INPUT|SELECT|TEXTAREA)$/.test(document.activeElement.tagName);
    if (event.key === "/" && !typing) {
      event.preventDefault();
      document.getElementById("search-input").focus();
    }
  });

  HV.state.view = "browse";
  start();
  return {open, goTo};
})();
