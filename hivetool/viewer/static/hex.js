// The hex view of a value's raw bytes: data offset, file offset, 16 bytes, their ASCII.
// ``location`` (from the API) says where the bytes are in the file: inside the vk record or
// in one cell (one base offset), or in big-data segments (each its own offset).
"use strict";

HV.hexView = (function () {
  const ROWS_AT_ONCE = 2048; // 32 KiB of bytes; more on request, so a 1 MB value stays responsive

  function bytesOf(hexText) {
    const out = new Uint8Array(hexText.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(hexText.substr(i * 2, 2), 16);
    return out;
  }

  function fileOffset(location, index) {
    if (!location) return null;
    if (location.kind === "inline" || location.kind === "cell" || location.kind === "record") {
      return location.offset + index;
    }
    if (location.kind === "big") {
      let start = 0;
      for (const segment of location.segments) {
        if (index < start + segment.size) return segment.offset + (index - start);
        start += segment.size;
      }
    }
    return null;
  }

  function describe(location) {
    if (!location) return "";
    switch (location.kind) {
      case "inline": return "kept inside the value record, at file offset " + HV.hex0(location.offset);
      case "cell": return "one data cell, first byte at file offset " + HV.hex0(location.offset);
      case "big": return "big data: db record at file offset " + HV.hex0(location.offset) + ", " +
        location.segments.length + " segments";
      case "record": return "the cell at file offset " + HV.hex0(location.offset) + ", its size field first";
      case "none": return "no data";
      default: return "data location unknown";
    }
  }

  function row(bytes, start, location) {
    const cells = [];
    let ascii = "";
    for (let i = start; i < start + 16; i++) {
      if (i < bytes.length) {
        cells.push(bytes[i].toString(16).padStart(2, "0"));
        ascii += bytes[i] >= 0x20 && bytes[i] < 0x7f ? String.fromCharCode(bytes[i]) : ".";
      } else {
        cells.push("  ");
      }
    }
    const at = fileOffset(location, start);
    return HV.el("div", {class: "hex-row"},
      HV.el("span", {class: "hex-off"}, start.toString(16).padStart(8, "0")),
      HV.el("span", {class: "hex-file"}, at === null ? "" : at.toString(16).padStart(8, "0")),
      HV.el("span", {class: "hex-bytes"}, cells.slice(0, 8).join(" ") + "  " + cells.slice(8).join(" ")),
      HV.el("span", {class: "hex-ascii"}, ascii));
  }

  // Fill ``box`` with ``title`` and the rows of ``hexText``.
  function show(box, title, hexText, location, note) {
    HV.clear(box);
    box.hidden = false;
    const bytes = bytesOf(hexText || "");
    box.append(HV.el("div", {class: "hex-title"}, title),
               HV.el("div", {class: "muted"}, bytes.length + " bytes; " + describe(location) + (note ? "; " + note : "")),
               HV.el("div", {class: "hex-row hex-head"},
                 HV.el("span", {class: "hex-off"}, "data+"), HV.el("span", {class: "hex-file"}, "file"),
                 HV.el("span", {class: "hex-bytes"}, "00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f"),
                 HV.el("span", {class: "hex-ascii"}, "ASCII")));
    const body = HV.el("div", {class: "hex-body"});
    box.append(body);
    let shown = 0;
    function more() {
      const end = Math.min(bytes.length, shown + ROWS_AT_ONCE * 16);
      const rows = document.createDocumentFragment();
      for (; shown < end; shown += 16) rows.append(row(bytes, shown, location));
      body.append(rows);
      const old = box.querySelector(".hex-more");
      if (old) old.remove();
      if (shown < bytes.length) {
        box.append(HV.el("button", {type: "button", class: "hex-more", onclick: more},
                         "Show more (" + (bytes.length - shown) + " bytes left)"));
      }
    }
    more();
  }

  return {show, bytesOf, fileOffset};
})();
