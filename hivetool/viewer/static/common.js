// Shared by every part of the page: the API call (with the token), building DOM safely, the
// status line. Names and data come from the hive, i.e. from whoever wrote it: they only ever
// reach the page as text nodes (never innerHTML), so a key named like markup stays a name.
"use strict";

window.HV = (function () {
  const token = document.querySelector('meta[name="hivetool-token"]').content;
  const state = {target: "main", logs: null, info: null};

  async function get(endpoint, params) {
    const query = new URLSearchParams({target: state.target});
    if (state.logs !== null) query.set("logs", state.logs ? "1" : "0");
    for (const [name, value] of Object.entries(params || {})) {
      if (value !== undefined && value !== null) query.set(name, String(value));
    }
    const response = await fetch("/api/" + endpoint + "?" + query.toString(),
                                 {headers: {"X-Hivetool-Token": token}, cache: "no-store"});
    let body;
    try {
      body = await response.json();
    } catch (err) {
      throw new Error(response.status + " " + response.statusText);
    }
    if (!response.ok) throw new Error(body.error || response.statusText);
    return body;
  }

  // el("tr", {class: "x", dataset: {path: p}}, child, "text", ...): children are nodes or text.
  function el(tag, attrs, ...children) {
    const node = tag.startsWith("svg:")
      ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4))
      : document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === "dataset") Object.assign(node.dataset, value);
      else if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" || typeof child === "number" ? String(child) : child);
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  let statusTimer = null;
  function status(message, kind) {
    const line = document.getElementById("status");
    line.textContent = message || "";
    line.className = kind || "";
    if (statusTimer) clearTimeout(statusTimer);
    if (message && kind !== "error" && kind !== "busy") statusTimer = setTimeout(() => status(""), 6000);
  }

  // Run an API call with "busy" shown, and its error (if any) on the status line.
  async function busy(message, work) {
    status(message, "busy");
    try {
      const result = await work();
      status("");
      return result;
    } catch (err) {
      status(err.message, "error");
      throw err;
    }
  }

  // Hives of an image that could not be read: the rest is shown, and this says what is missing.
  function problems(list) {
    if (list && list.length) status("Not read: " + list.join("; "), "error");
  }

  function shortTime(iso) {
    if (!iso) return "";
    return iso.replace("T", " ").replace(/(\.\d+)?Z$/, "");
  }

  function hex0(number) {
    return number === null || number === undefined ? "" : "0x" + Number(number).toString(16);
  }

  const views = {};
  function registerView(name, onShow) { views[name] = onShow; }

  function showView(name) {
    for (const tab of document.querySelectorAll("#tabs [role=tab]")) {
      tab.setAttribute("aria-selected", tab.dataset.view === name ? "true" : "false");
    }
    for (const section of document.querySelectorAll("main > .view")) {
      section.hidden = section.id !== "view-" + name;
    }
    state.view = name;
    if (views[name]) views[name]();
  }

  return {token, state, get, el, clear, status, busy, problems, shortTime, hex0, registerView, showView};
})();
