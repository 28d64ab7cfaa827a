// The explorer's behaviour beyond htmx: the vehicle selector's filters and the search typeahead.
// No inline script (the CSP allows 'self' only); everything hangs off data attributes and ids.
(function () {
  "use strict";

  // ---- the selector (vehicles_grid.html) --------------------------------------------------------
  // A mouse choice reloads at once; arrow keys on a closed <select> change its value (and fire
  // `change`) on every press, so a keyboard choice waits for Enter or for leaving the box: one
  // grid load and one history entry per choice.
  const BROWSE_KEYS = new Set(["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Home", "End", "PageUp", "PageDown"]);
  let browsing = null;  // the <select> being browsed with the keyboard

  function selectorOf(el) { return el && el.closest ? el.closest("form[data-selector]") : null; }
  function choose(form) { if (form && window.htmx) { window.htmx.trigger(form, "filter-change"); } }

  document.addEventListener("keydown", function (e) {
    const form = selectorOf(e.target);
    if (!form || e.target.tagName !== "SELECT") { return; }
    if (BROWSE_KEYS.has(e.key) || e.key.length === 1) { browsing = e.target; return; }
    if (e.key === "Enter" && browsing === e.target) { e.preventDefault(); browsing = null; choose(form); }
  });
  document.addEventListener("change", function (e) {
    const form = selectorOf(e.target);
    if (form && e.target.tagName === "SELECT" && browsing !== e.target) { choose(form); }
  });
  document.addEventListener("focusout", function (e) {
    if (browsing && e.target === browsing) {
      const form = selectorOf(browsing);
      const changed = Array.from(browsing.options).some(function (o) { return o.selected !== o.defaultSelected; });
      browsing = null;
      if (changed) { choose(form); }
    }
  });

  // The URL carries only the filters that are set (no `&engine=&body=`).
  document.addEventListener("htmx:configRequest", function (e) {
    if (!selectorOf(e.detail.elt)) { return; }
    const data = e.detail.formData;  // htmx 2: the FormData the URL is built from
    if (data) {
      const empty = [];
      for (const [k, v] of data.entries()) { if (v === "") { empty.push(k); } }
      empty.forEach(function (k) { data.delete(k); });
    }
  });
  document.addEventListener("formdata", function (e) {
    if (!selectorOf(e.target)) { return; }
    const empty = [];
    for (const [k, v] of e.formData.entries()) { if (v === "") { empty.push(k); } }
    empty.forEach(function (k) { e.formData.delete(k); });
  });

  // Back and Forward: the boxes say what the URL says (whatever snapshot htmx restored).
  function boxesFromUrl() {
    const query = new URLSearchParams(window.location.search);
    document.querySelectorAll("form[data-selector] select").forEach(function (s) {
      const want = query.get(s.name) || "";
      if (Array.from(s.options).some(function (o) { return o.value === want; })) { s.value = want; }
      Array.from(s.options).forEach(function (o) { o.defaultSelected = o.value === want; });
    });
  }
  window.addEventListener("popstate", function () { setTimeout(boxesFromUrl, 0); });
  document.addEventListener("htmx:historyRestore", boxesFromUrl);
  window.addEventListener("pageshow", boxesFromUrl);

  // ---- the typeahead (base.html's search box): a WAI-ARIA combobox -----------------------------
  function box() { return document.getElementById("search-box"); }
  function list() { return document.getElementById("suggestions"); }
  function options() { const l = list(); return l ? Array.from(l.querySelectorAll("[role=option]:not([aria-disabled=true])")) : []; }
  function active() { return options().findIndex(function (o) { return o.getAttribute("aria-selected") === "true"; }); }

  function open(yes) {
    const b = box(); const l = list();
    if (!b || !l) { return; }
    const show = yes && l.children.length > 0;
    l.hidden = !show;
    b.setAttribute("aria-expanded", show ? "true" : "false");
    if (!show) { b.removeAttribute("aria-activedescendant"); }
  }
  function highlight(i) {
    const opts = options(); const b = box();
    opts.forEach(function (o, n) { o.setAttribute("aria-selected", n === i ? "true" : "false"); });
    if (i >= 0 && opts[i]) { b.setAttribute("aria-activedescendant", opts[i].id); opts[i].scrollIntoView({ block: "nearest" }); }
    else { b.removeAttribute("aria-activedescendant"); }
  }

  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target && e.detail.target.id === "suggestions" || (list() && list().contains(e.detail.elt))) {
      open(document.activeElement === box() && box().value.trim() !== "");
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    const l = list(); const b = box();
    if (l && b && b.getAttribute("aria-expanded") !== "true") { l.hidden = true; }
    if (l && b && document.activeElement === b && b.value.trim() !== "" && l.children.length) { open(true); }
  });
  document.addEventListener("keydown", function (e) {
    const b = box();
    if (!b || e.target !== b) { return; }
    const opts = options(); const i = active();
    if (e.key === "ArrowDown") {
      e.preventDefault(); if (!opts.length) { return; } open(true); highlight(i < opts.length - 1 ? i + 1 : 0);
    } else if (e.key === "ArrowUp") {
      e.preventDefault(); if (!opts.length) { return; } open(true); highlight(i > 0 ? i - 1 : opts.length - 1);
    } else if (e.key === "Escape") {
      if (b.getAttribute("aria-expanded") === "true") { e.preventDefault(); open(false); highlight(-1); }
      else { b.value = ""; }
    } else if (e.key === "Enter" && i >= 0 && b.getAttribute("aria-expanded") === "true") {
      e.preventDefault();
      const a = opts[i].querySelector("a") || opts[i];
      if (a.href) { window.location.assign(a.href); }
    }
  });
  document.addEventListener("input", function (e) {
    if (e.target === box() && e.target.value.trim() === "") { open(false); const l = list(); if (l) { l.innerHTML = ""; } }
  });
  document.addEventListener("click", function (e) {
    const b = box(); const l = list();
    if (b && l && e.target !== b && !l.contains(e.target)) { open(false); highlight(-1); }
  });
  document.addEventListener("focusin", function (e) {
    if (e.target === box() && box().value.trim() !== "") { open(true); }
  });
})();

// ---- tile filters (the makes page): typing hides the tiles whose name does not hold the text --------
document.addEventListener("input", function (e) {
  const target = e.target && e.target.dataset ? e.target.dataset.filters : null;
  if (!target) { return; }
  const text = e.target.value.trim().toLowerCase();
  let shown = 0;
  document.querySelectorAll("#" + target + " > li").forEach(function (li) {
    const hit = !text || (li.dataset.name || "").indexOf(text) >= 0;
    li.hidden = !hit;
    if (hit) { shown += 1; }
  });
  const count = document.getElementById(target + "-shown");
  if (count) { count.textContent = shown + (shown === 1 ? " make" : " makes"); }
});
