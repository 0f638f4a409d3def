// The timeline view: keys by last-write time as an SVG bar chart. Click a bar (or focus it and
// press Enter) to list its keys; drag across bars to zoom to them; type a range; zoom out.
// Recovered deleted keys are drawn in red at the foot of their bar.
"use strict";

HV.timeline = (function () {
  const chart = document.getElementById("timeline-chart");
  const summary = document.getElementById("timeline-summary");
  const keysTitle = document.getElementById("timeline-keys-title");
  const keyList = document.getElementById("timeline-keys");
  const startInput = document.getElementById("timeline-start");
  const endInput = document.getElementById("timeline-end");
  const WIDTH = 960, HEIGHT = 220, FOOT = 18;
  let range = {start: null, end: null};
  let data = null;
  let loadedFor = null;
  let dragFrom = null;

  async function load(start, end) {
    range = {start: start, end: end};
    HV.clear(keyList);
    keysTitle.textContent = "";
    try {
      data = await HV.busy("Reading every key's last-write time ...", () =>
        HV.get("timeline", {start: start, end: end, buckets: 60}));
    } catch (err) {
      summary.textContent = err.message;
      return;
    }
    range = {start: data.start, end: data.end};
    HV.problems(data.problems);
    startInput.value = data.start_iso;
    endInput.value = data.end_iso;
    const shown = data.buckets.reduce((sum, b) => sum + b.keys, 0);
    summary.textContent = data.total + " keys with a time, " + data.recovered + " of them recovered deleted keys" +
      (data.undated ? ", " + data.undated + " keys without a time (0)" : "") + "; showing " + shown + " from " +
      HV.shortTime(data.start_iso) + " to " + HV.shortTime(data.end_iso) + " UTC";
    draw();
  }

  function draw() {
    HV.clear(chart);
    const buckets = data.buckets;
    const most = Math.max(1, ...buckets.map((b) => b.keys));
    // A square-root scale: one busy day (an install, an update) would flatten every other bar.
    const scale = (count) => (HEIGHT - 10) * Math.sqrt(count / most);
    const width = WIDTH / Math.max(1, buckets.length);
    const svg = HV.el("svg:svg", {viewBox: "0 0 " + WIDTH + " " + (HEIGHT + FOOT), class: "chart",
                                  role: "img", "aria-label": "Keys written over time"});
    buckets.forEach((bucket, index) => {
      const height = bucket.keys ? Math.max(2, scale(bucket.keys)) : 0;
      const group = HV.el("svg:g", {class: "bucket", dataset: {index: String(index)}});
      group.append(HV.el("svg:rect", {class: "hit", x: index * width, y: 0, width: width, height: HEIGHT}));
      const bar = HV.el("svg:rect", {class: "bar" + (bucket.recovered ? " has-recovered" : ""),
        x: index * width + 1, y: HEIGHT - height, width: Math.max(1, width - 2), height: height,
        tabindex: "0", dataset: {index: String(index), keys: String(bucket.keys)}});
      const tip = HV.el("svg:title", {}, HV.shortTime(bucket.start_iso) + " to " + HV.shortTime(bucket.end_iso) +
                        ": " + bucket.keys + " keys" + (bucket.recovered ? ", " + bucket.recovered + " recovered" : ""));
      bar.append(tip);
      group.append(bar);
      if (bucket.recovered) {
        const red = Math.max(3, scale(bucket.recovered));
        group.append(HV.el("svg:rect", {class: "recovered", x: index * width + 1, y: HEIGHT - red,
                                        width: Math.max(1, width - 2), height: red}));
        group.append(HV.el("svg:circle", {class: "recovered-mark", cx: index * width + width / 2,
                                          cy: HEIGHT - height - 6, r: 3}));
      }
      group.addEventListener("mousedown", (event) => { event.preventDefault(); dragFrom = index; highlight(index, index); });
      group.addEventListener("mouseenter", () => { if (dragFrom !== null) highlight(dragFrom, index); });
      group.addEventListener("mouseup", () => finishDrag(index));
      bar.addEventListener("keydown", (event) => {
        if (event.key === "Enter") { event.preventDefault(); listBucket(index); }
      });
      svg.append(group);
    });
    svg.append(HV.el("svg:text", {x: 2, y: HEIGHT + 14, class: "axis"}, HV.shortTime(data.start_iso)));
    svg.append(HV.el("svg:text", {x: WIDTH - 2, y: HEIGHT + 14, class: "axis end"}, HV.shortTime(data.end_iso)));
    svg.append(HV.el("svg:text", {x: 2, y: 12, class: "axis"}, "max " + most + " keys per bar (square-root scale)"));
    chart.append(svg);
  }

  function highlight(from, to) {
    const low = Math.min(from, to), high = Math.max(from, to);
    for (const group of chart.querySelectorAll(".bucket")) {
      const index = Number(group.dataset.index);
      group.classList.toggle("selected", index >= low && index <= high);
    }
  }

  function finishDrag(index) {
    if (dragFrom === null) return;
    const from = dragFrom;
    dragFrom = null;
    if (from === index) listBucket(index);
    else {
      const low = Math.min(from, index), high = Math.max(from, index);
      load(data.buckets[low].start, data.buckets[high].end);
    }
  }

  document.addEventListener("mouseup", () => { dragFrom = null; });

  async function listBucket(index) {
    const bucket = data.buckets[index];
    highlight(index, index);
    HV.clear(keyList);
    keysTitle.textContent = "Keys written " + HV.shortTime(bucket.start_iso) + " to " + HV.shortTime(bucket.end_iso);
    await listKeys(bucket.start, bucket.end, 0);
  }

  async function listKeys(start, end, offset) {
    let page;
    try {
      page = await HV.busy("Listing keys ...", () => HV.get("timeline/keys", {start: start, end: end, offset: offset}));
    } catch (err) {
      return;
    }
    const old = keyList.querySelector(".more");
    if (old) old.remove();
    for (const key of page.keys) {
      const link = HV.el("a", {href: "#", class: "path"}, key.path || "\\");
      link.addEventListener("click", (event) => {
        event.preventDefault();
        if (key.recovered) HV.deleted.open(key.index);
        else HV.app.open(key.path);
      });
      keyList.append(HV.el("li", {class: key.recovered ? "recovered-key" : "live-key"},
        HV.el("span", {class: "time"}, HV.shortTime(key.last_write)), " ", link,
        key.recovered ? HV.el("span", {class: "badge recovered"}, key.partial ? "recovered (partial path)" : "recovered")
                      : null,
        HV.el("span", {class: "muted"}, " at " + HV.hex0(key.offset))));
    }
    if (page.more) {
      const next = page.offset + page.keys.length;
      keyList.append(HV.el("li", {class: "more"}, HV.el("button", {type: "button",
        onclick: () => listKeys(start, end, next)}, "Show more (" + (page.total - next) + " left)")));
    }
  }

  document.getElementById("timeline-form").addEventListener("submit", (event) => {
    event.preventDefault();
    load(startInput.value.trim() || null, endInput.value.trim() || null);
  });
  document.getElementById("timeline-reset").addEventListener("click", () => load(null, null));
  document.getElementById("timeline-out").addEventListener("click", () => {
    if (!data || data.first === null) return;
    // BigInt: FILETIMEs pass 2**53, where Number stops being exact
    const start = BigInt(range.start), end = BigInt(range.end), span = end - start + 1n;
    const first = BigInt(data.first), last = BigInt(data.last);
    const low = start - span / 2n < first ? first : start - span / 2n;
    const high = end + span / 2n > last ? last : end + span / 2n;
    load(low.toString(), high.toString());
  });

  function onShow() {
    const key = HV.state.target + ":" + HV.state.logs;
    if (loadedFor === key) return;
    loadedFor = key;
    load(null, null);
  }

  function forget() { loadedFor = null; }

  HV.registerView("timeline", onShow);
  return {load, forget};
})();
